import NIOHTTP1
import SwitchyardConfig

/// `stripPrefixRegex`: removes the part of the path a regex matches at its start, and tells the server in
/// `X-Forwarded-Prefix`.
struct StripPrefixRegex: HTTPMiddleware {
    let expressions: [CompiledRegex]

    init(_ options: StripPrefixRegexMiddleware) throws(MiddlewareConfigurationError) {
        let patterns = options.regex ?? []
        guard !patterns.isEmpty else { throw MiddlewareConfigurationError("stripPrefixRegex.regex: no expression given") }
        var expressions: [CompiledRegex] = []
        for pattern in patterns { expressions.append(try compileRegex(pattern, option: "stripPrefixRegex.regex")) }
        self.expressions = expressions
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        var target = RequestTarget(head.uri)
        for expression in expressions {
            guard let match = expression.firstMatch(in: target.path), match.lowerBound == target.path.startIndex else {
                continue
            }
            let prefix = String(target.path[match])
            target.path = StripPrefix.stripped(target.path, prefix: prefix)
            head.uri = target.uri
            head.headers.add(name: "X-Forwarded-Prefix", value: prefix)
            return .proceed
        }
        return .proceed
    }
}
