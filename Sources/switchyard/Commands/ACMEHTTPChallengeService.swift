import NIOCore
import NIOHTTP1
import SwitchyardACME
import SwitchyardRouting

/// Answers ACME HTTP-01 challenges, `GET /.well-known/acme-challenge/<token>`, with the key authorization of a
/// challenge a resolver is waiting on; 404 for any other token.
struct ACMEHTTPChallengeService: InternalService {
    static let prefix = "/.well-known/acme-challenge/"
    let challenges: ACMEChallenges

    func respond(to request: HTTPRequestHead, on eventLoop: any EventLoop) -> EventLoopFuture<InternalResponse> {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        let token = path.hasPrefix(Self.prefix) ? String(path.dropFirst(Self.prefix.count)) : ""
        guard !token.isEmpty, !token.contains("/"), let answer = challenges.keyAuthorization(token: token) else {
            return eventLoop.makeSucceededFuture(InternalResponse(status: .notFound, body: ByteBuffer(string: "404 page not found\n")))
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain")
        return eventLoop.makeSucceededFuture(InternalResponse(status: .ok, headers: headers, body: ByteBuffer(string: answer)))
    }
}
