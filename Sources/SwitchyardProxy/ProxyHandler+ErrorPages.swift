import Logging
import NIOCore
import NIOHTTP1
import SwitchyardMiddleware
import SwitchyardRouting
import SwitchyardUpstream

extension ProxyHandler {
    /// A 502 or 504 the proxy makes itself (the server could not be reached, or did not answer in time) gets the
    /// `errors` middleware's page as a server's answer would; false when no page applies.
    func answerWithErrorPage(_ status: Int, context: ChannelHandlerContext) -> Bool {
        guard errorPageStatus == nil, let policy = scope?.errorPages as? ErrorPagesPolicy,
            policy.matches(status)
        else { return false }
        return fetchErrorPage(policy, status: status, context: context)
    }

    /// Replaces the server's answer with the error page of the `errors` middleware: a GET of the page on its
    /// service, answered with the original status (or its rewrite). False when no server can serve the page.
    func fetchErrorPage(_ policy: ErrorPagesPolicy, status: Int, context: ChannelHandlerContext) -> Bool {
        guard let request, case .loadBalancer(let pages)? = policy.service.resolved(client: clientAddress), let server = pages.nextServer()
        else { return false }
        let url = RequestTarget.requestURL(request, scheme: settings.scheme)
        var headers = request.headers
        for name in ["content-length", "transfer-encoding", "expect"] { headers.remove(name: name) }
        if let wanted = policy.requestHeaders {
            // errorRequestHeaders: only these go with the page request (the Host is its own matter).
            var kept = HTTPHeaders()
            for (name, value) in headers where name.lowercased() == "host" || wanted.contains(name.lowercased()) {
                kept.add(name: name, value: value)
            }
            headers = kept
        }
        let page = HTTPRequestHead(version: .http1_1, method: .GET, uri: policy.path(for: status, url: url), headers: headers)
        let upstreamHead = ForwardedRequest.make(
            from: page, server: server, passHostHeader: pages.passHostHeader, clientIP: clientIP, scheme: settings.scheme,
            proxyHostname: settings.hostname)
        errorPageStatus = policy.clientStatus(for: status)
        responseTimeout?.cancel()
        responseTimeout = nil
        self.upstreamHead = upstreamHead
        self.server = server
        self.balancer = pages
        pending = [.end(nil)]
        if !requestEnded { keepAlive = false }  // the rest of the client's body is not read into a new request
        connect(to: server, first: .head(upstreamHead), fresh: false)
        return true
    }
}
