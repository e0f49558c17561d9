import NIOHTTP1
import SwitchyardConfig

/// The path and query of a request target, to rewrite one without touching the other.
public struct RequestTarget: Sendable, Hashable {
    public var path: String
    /// The raw query after `?`, nil when there is none.
    public var query: String?

    /// Splits an origin-form target (`/a/b?x=1`); an absolute-form one (`http://host/a`) loses its scheme and host.
    public init(_ uri: String) {
        var rest = Substring(uri)
        if rest.first != "/", let schemeEnd = rest.firstRange(of: "://") {
            rest = rest[schemeEnd.upperBound...]
            rest = rest[(rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex)...]
        }
        if let mark = rest.firstIndex(of: "?") {
            path = String(rest[..<mark])
            query = String(rest[rest.index(after: mark)...])
        } else {
            path = String(rest)
            query = nil
        }
        if path.isEmpty { path = "/" }
    }

    public var uri: String {
        guard let query else { return path }
        return path + "?" + query
    }

    /// The URL the client asked for: scheme as it reached the entry point, host from the request, and the target.
    public static func requestURL(_ head: HTTPRequestHead, scheme: String) -> String {
        if head.uri.contains("://") { return head.uri }
        let host = head.headers.first(name: "host") ?? ""
        return "\(scheme)://\(host)\(head.uri)"
    }
}

/// A middleware's options that cannot work, reported on the middleware and the routers that use it.
public struct MiddlewareConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Checks a header name and value a middleware will add: no control characters, no line breaks.
func validateHeader(_ name: String, _ value: String, option: String) throws(MiddlewareConfigurationError) {
    let nameIsToken = !name.isEmpty && name.utf8.allSatisfy { byte in
        byte > 0x20 && byte < 0x7F && !"()<>@,;:\\\"/[]?={}".utf8.contains(byte)
    }
    guard nameIsToken else { throw MiddlewareConfigurationError("\(option): '\(name)' is not a valid header name") }
    guard value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
        throw MiddlewareConfigurationError("\(option): the value of '\(name)' contains a line break or control character")
    }
}

/// Compiles a regex option, naming the option when it does not compile.
func compileRegex(_ pattern: String, option: String) throws(MiddlewareConfigurationError) -> CompiledRegex {
    do {
        return try CompiledRegex(pattern)
    } catch {
        throw MiddlewareConfigurationError("\(option): \(error.description)")
    }
}
