import NIOHTTP1
import SwitchyardConfig

/// `redirectRegex`: matches the full request URL (`http://host/path?query`) and redirects to the replacement
/// (`$1`, `${1}`, `${name}`). No match, or a replacement equal to the URL, lets the request pass.
struct RedirectRegex: HTTPMiddleware {
    let expression: CompiledRegex
    let replacement: String
    let permanent: Bool

    init(_ options: RedirectRegexMiddleware) throws(MiddlewareConfigurationError) {
        guard let pattern = options.regex, !pattern.isEmpty else {
            throw MiddlewareConfigurationError("redirectRegex.regex: no expression given")
        }
        guard let replacement = options.replacement, !replacement.isEmpty else {
            throw MiddlewareConfigurationError("redirectRegex.replacement: no replacement given")
        }
        try validateHeader("Location", replacement, option: "redirectRegex.replacement")
        expression = try compileRegex(pattern, option: "redirectRegex.regex")
        self.replacement = replacement
        self.permanent = options.permanent ?? false
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        let url = RequestTarget.requestURL(head, scheme: context.scheme)
        guard let location = expression.replacingMatches(in: url, with: replacement), location != url else {
            return .proceed
        }
        return Redirect.respond(to: location, permanent: permanent, method: head.method)
    }
}
