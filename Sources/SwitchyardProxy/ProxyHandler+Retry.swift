import Logging
import NIOCore
import NIOHTTP1
import SwitchyardMiddleware
import SwitchyardRouting
import SwitchyardUpstream

extension ProxyHandler {
    /// Sends the request again, to the balancer's next server, when the route's `retry` allows it: tries left, no
    /// body sent yet, a method it may repeat. Returns false when the caller must answer the failure itself.
    func retry(afterNetworkError: Bool, status: Int?, context: ChannelHandlerContext) -> Bool {
        guard let policy = middlewareContext?.scope.retry, attempt < policy.attempts, !bodyForwarded,
            let request, policy.allows(request.method), let balancer,
            afterNetworkError ? policy.onNetworkError : status.map(policy.retries(status:)) == true,
            let server = balancer.nextServer()
        else { return false }
        attempt += 1
        responseTimeout?.cancel()
        responseTimeout = nil
        let upstreamHead = ForwardedRequest.make(
            from: request, server: server, passHostHeader: balancer.passHostHeader, clientIP: clientIP,
            scheme: settings.scheme, proxyHostname: settings.hostname)
        self.upstreamHead = upstreamHead
        self.server = server
        pending = requestEnded ? [.end(nil)] : []
        // Body parts that arrive meanwhile wait in `pending`, as while connecting.
        phase = .connecting
        holdReads(true)
        let delay = policy.delay(beforeTry: attempt)
        let generation = self.generation
        logger.debug("retrying", metadata: ["try": "\(attempt)", "server": "\(server.url)"])
        context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(delay)) {
            guard generation == self.generation else { return }
            self.connect(to: server, first: .head(upstreamHead), fresh: false)
        }
        return true
    }
}
