import Logging
import NIOCore
import NIOHTTP1
import SwitchyardMiddleware
import SwitchyardRouting
import SwitchyardUpstream

extension ProxyHandler {
    /// Switches the response to the negotiated encoding when it qualifies: no length (the body changes), the
    /// encoding named, `Vary: Accept-Encoding`. HTTP/1.0 clients get the body as it is (no chunked framing).
    func startCompressionIfAsked(_ response: inout HTTPResponseHead, request: HTTPRequestHead) {
        guard let policy = scope?.compression, request.version != .http1_0,
            policy.applies(to: response, request: request)
        else { return }
        guard let encoder = BodyEncoders.make(policy.encoding) else { return }
        self.compressor = encoder
        response.headers.remove(name: "content-length")
        response.headers.replaceOrAdd(name: "Content-Encoding", value: policy.encoding)
        let vary = response.headers.first(name: "vary") ?? ""
        if !vary.lowercased().contains("accept-encoding") {
            response.headers.replaceOrAdd(name: "Vary", value: vary.isEmpty ? "Accept-Encoding" : vary + ", Accept-Encoding")
        }
    }

    /// A response that cannot go on: the client learns by the connection closing.
    func failMidResponse(_ upstream: UpstreamConnection, context: ChannelHandlerContext) {
        upstream.delegate = nil
        upstream.close()
        compressor = nil
        phase = .idle
        context.close(promise: nil)
    }
}
