import Foundation
import NIOHTTP1
import SwitchyardConfig
import SwitchyardMiddleware

/// What the `errors` middleware asks of the proxy: answers with one of `statuses` are replaced by the page `query`
/// names on `service` (`{status}`, `{originalStatus}` and `{url}` filled in), sent with the original status or its
/// rewrite.
public struct ErrorPagesPolicy: Sendable {
    public let statuses: [ClosedRange<Int>]
    public let service: ServiceTarget
    public let query: String
    public let rewrites: [Int: Int]
    /// The request headers the page request carries (`errorRequestHeaders`, lowercased); nil for all of them.
    public let requestHeaders: [String]?

    public func matches(_ status: Int) -> Bool { statuses.contains { $0.contains(status) } }

    /// The status the client gets for an answer with `status`.
    public func clientStatus(for status: Int) -> Int { rewrites[status] ?? status }

    /// The path of the error page for `status`, for the request that was made to `url`.
    public func path(for status: Int, url: String) -> String {
        var path = query
        path = path.replacingOccurrences(of: "{status}", with: String(clientStatus(for: status)))
        path = path.replacingOccurrences(of: "{originalStatus}", with: String(status))
        path = path.replacingOccurrences(of: "{url}", with: Self.percentEncoded(url))
        return path.hasPrefix("/") ? path : "/" + path
    }

    static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let unreserved = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
            result += unreserved ? String(UnicodeScalar(byte)) : String(format: "%%%02X", byte)
        }
        return result
    }

    /// Reads the `errors` options; the service is resolved by the compiler.
    static func make(_ options: ErrorsMiddleware, service: ServiceTarget) throws(MiddlewareConfigurationError) -> ErrorPagesPolicy {
        let statuses: [ClosedRange<Int>]
        switch StatusRanges.parse(options.status ?? []) {
        case .success(let ranges): statuses = ranges
        case .failure(let invalid): throw MiddlewareConfigurationError("errors.status: \(invalid.message)")
        }
        guard !statuses.isEmpty else { throw MiddlewareConfigurationError("errors.status: no status given") }
        var rewrites: [Int: Int] = [:]
        for (from, to) in options.statusRewrites ?? [:] {
            guard let code = Int(from), (100...599).contains(code), (100...599).contains(to) else {
                throw MiddlewareConfigurationError("errors.statusRewrites: '\(from)': \(to) is not a pair of statuses")
            }
            rewrites[code] = to
        }
        let requestHeaders = options.errorRequestHeaders.flatMap { $0.isEmpty ? nil : $0.map { $0.lowercased() } }
        return ErrorPagesPolicy(
            statuses: statuses, service: service, query: options.query ?? "/", rewrites: rewrites,
            requestHeaders: requestHeaders)
    }
}

/// The `errors` middleware: hands its policy to the proxy for the response.
struct ErrorPages: HTTPMiddleware {
    let policy: ErrorPagesPolicy

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        context.scope.errorPages = policy
        return .proceed
    }
}
