import NIOHTTP1
import SwitchyardConfig

/// `stripPrefix`: removes the first of its prefixes the path starts with, and tells the server which one in
/// `X-Forwarded-Prefix`.
struct StripPrefix: HTTPMiddleware {
    let prefixes: [String]

    init(_ options: StripPrefixMiddleware) throws(MiddlewareConfigurationError) {
        let prefixes = (options.prefixes ?? []).map { $0.trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
        guard !prefixes.isEmpty else { throw MiddlewareConfigurationError("stripPrefix.prefixes: no prefix given") }
        self.prefixes = prefixes
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        var target = RequestTarget(head.uri)
        guard let prefix = prefixes.first(where: { target.path.hasPrefix($0) }) else { return .proceed }
        target.path = StripPrefix.stripped(target.path, prefix: prefix)
        head.uri = target.uri
        head.headers.add(name: "X-Forwarded-Prefix", value: prefix)
        return .proceed
    }

    /// The path without `prefix`, always starting with `/`.
    static func stripped(_ path: String, prefix: String) -> String {
        let rest = path.dropFirst(prefix.count)
        return rest.hasPrefix("/") ? String(rest) : "/" + rest
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var slice = Substring(self)
        while slice.first == set { slice = slice.dropFirst() }
        while slice.last == set { slice = slice.dropLast() }
        return String(slice)
    }
}
