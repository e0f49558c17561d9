import NIOHTTP1
import SwitchyardConfig

/// `replacePathRegex`: rewrites the path with a regex and a replacement (`$1`, `${1}`, `${name}`); the original
/// goes to `X-Replaced-Path`. A path the regex does not match is left alone.
struct ReplacePathRegex: HTTPMiddleware {
    let expression: CompiledRegex
    let replacement: String

    init(_ options: ReplacePathRegexMiddleware) throws(MiddlewareConfigurationError) {
        guard let pattern = options.regex, !pattern.isEmpty else {
            throw MiddlewareConfigurationError("replacePathRegex.regex: no expression given")
        }
        expression = try compileRegex(pattern, option: "replacePathRegex.regex")
        replacement = options.replacement ?? ""
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        var target = RequestTarget(head.uri)
        guard let replaced = expression.replacingMatches(in: target.path, with: replacement) else { return .proceed }
        head.headers.replaceOrAdd(name: "X-Replaced-Path", value: target.path)
        target.path = replaced.isEmpty || replaced.hasPrefix("/") ? (replaced.isEmpty ? "/" : replaced) : "/" + replaced
        head.uri = target.uri
        return .proceed
    }
}
