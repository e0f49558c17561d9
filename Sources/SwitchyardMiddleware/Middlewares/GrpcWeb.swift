import NIOHTTP1
import SwitchyardConfig

/// `grpcWeb`: lets browsers speak gRPC-Web (HTTP/1.1 or HTTP/2, binary framing) to gRPC servers. A gRPC-Web
/// request becomes a gRPC request (`application/grpc-web[+proto]` → `application/grpc[+proto]`, `TE: trailers`);
/// the answer's trailers become the trailer frame gRPC-Web puts at the end of the body (flag 0x80), and its
/// content type goes back to `application/grpc-web…`. CORS for `allowOrigins` (`*` for any), preflights answered
/// here. The text variant (`application/grpc-web-text`, base64 bodies) is passed on unchanged.
struct GrpcWeb: HTTPMiddleware {
    let allowOrigins: [String]

    static let allowedHeaders = "content-type, x-grpc-web, x-user-agent, grpc-timeout, authorization"
    static let exposedHeaders = "grpc-status, grpc-message, grpc-status-details-bin"

    init(_ options: GrpcWebMiddleware) throws(MiddlewareConfigurationError) {
        allowOrigins = options.allowOrigins ?? []
    }

    func allows(_ origin: String) -> Bool {
        allowOrigins.contains("*") || allowOrigins.contains(origin)
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        let origin = head.headers.first(name: "origin")
        if head.method == .OPTIONS, head.headers.contains(name: "access-control-request-method") {
            guard let origin, allows(origin) else { return .respond(.forbidden, headers: [:], body: "") }
            return .respond(
                .noContent,
                headers: [
                    "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": "POST, OPTIONS",
                    "Access-Control-Allow-Headers": Self.allowedHeaders, "Access-Control-Max-Age": "600",
                    "Vary": "Origin",
                ],
                body: "")
        }
        guard let contentType = head.headers.first(name: "content-type"), contentType.lowercased().hasPrefix("application/grpc-web"),
            !contentType.lowercased().hasPrefix("application/grpc-web-text")
        else { return .proceed }
        head.headers.replaceOrAdd(
            name: "content-type", value: "application/grpc" + contentType.dropFirst("application/grpc-web".count))
        head.headers.replaceOrAdd(name: "te", value: "trailers")
        head.headers.remove(name: "x-grpc-web")
        context.scope.grpcWeb = GrpcWebExchange(origin: origin.flatMap { allows($0) ? $0 : nil })
        return .proceed
    }

    func handleResponse(_ head: inout HTTPResponseHead, request: HTTPRequestHead, context: MiddlewareContext) {
        guard let exchange = context.scope.grpcWeb else { return }
        if let contentType = head.headers.first(name: "content-type"), contentType.lowercased().hasPrefix("application/grpc") {
            head.headers.replaceOrAdd(
                name: "content-type", value: "application/grpc-web" + contentType.dropFirst("application/grpc".count))
        } else {
            head.headers.replaceOrAdd(name: "content-type", value: "application/grpc-web+proto")
        }
        // The trailer frame is added to the body: the length is no longer known.
        head.headers.remove(name: "content-length")
        if let origin = exchange.origin {
            head.headers.replaceOrAdd(name: "Access-Control-Allow-Origin", value: origin)
            head.headers.replaceOrAdd(name: "Access-Control-Expose-Headers", value: Self.exposedHeaders)
            head.headers.add(name: "Vary", value: "Origin")
        }
    }
}

/// A gRPC-Web exchange under way: the proxy writes the server's trailers as the body's trailer frame.
public struct GrpcWebExchange: Sendable {
    /// The origin to allow in the CORS answer, when it is one of `allowOrigins`.
    public var origin: String?

    /// The trailer frame for `trailers`: flag 0x80, a big-endian length, then `name: value\r\n` lines.
    public static func trailerFrame(_ trailers: HTTPHeaders) -> [UInt8] {
        var text = ""
        for (name, value) in trailers { text += "\(name.lowercased()): \(value)\r\n" }
        let bytes = Array(text.utf8)
        let length = UInt32(bytes.count)
        return [0x80, UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)] + bytes
    }
}
