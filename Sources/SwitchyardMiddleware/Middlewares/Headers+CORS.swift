import NIOHTTP1
import SwitchyardConfig

extension Headers {
    /// The CORS part of `headers`: preflight requests are answered by the proxy and not forwarded; other
    /// responses get `Access-Control-Allow-Origin` (and the other headers) when the origin is allowed.
    struct CORS: Sendable {
        let allowCredentials: Bool
        let allowHeaders: String
        let allowMethods: String
        let exposeHeaders: String
        let maxAge: Int64
        let addVaryHeader: Bool
        let allowAnyOrigin: Bool
        let origins: Set<String>
        let originPatterns: [CompiledRegex]

        /// nil when no CORS option is set.
        init?(_ options: HeadersMiddleware) throws(MiddlewareConfigurationError) {
            let any =
                options.accessControlAllowCredentials != nil || options.accessControlAllowHeaders != nil
                || options.accessControlAllowMethods != nil || options.accessControlAllowOriginList != nil
                || options.accessControlAllowOriginListRegex != nil || options.accessControlExposeHeaders != nil
                || options.accessControlMaxAge != nil
            guard any else { return nil }
            allowCredentials = options.accessControlAllowCredentials ?? false
            allowHeaders = (options.accessControlAllowHeaders ?? []).joined(separator: ",")
            allowMethods = (options.accessControlAllowMethods ?? []).joined(separator: ",")
            exposeHeaders = (options.accessControlExposeHeaders ?? []).joined(separator: ",")
            for (name, value) in [
                ("Access-Control-Allow-Headers", allowHeaders), ("Access-Control-Allow-Methods", allowMethods),
                ("Access-Control-Expose-Headers", exposeHeaders),
            ] {
                try validateHeader(name, value, option: "headers")
            }
            maxAge = options.accessControlMaxAge ?? 0
            addVaryHeader = options.addVaryHeader ?? false
            let list = options.accessControlAllowOriginList ?? []
            allowAnyOrigin = list.contains("*")
            origins = Set(list)
            var patterns: [CompiledRegex] = []
            for pattern in options.accessControlAllowOriginListRegex ?? [] {
                patterns.append(try compileRegex(pattern, option: "headers.accessControlAllowOriginListRegex"))
            }
            originPatterns = patterns
        }

        /// The value for `Access-Control-Allow-Origin`, nil when the origin is not allowed.
        func allowedOrigin(_ origin: String?) -> String? {
            if allowAnyOrigin { return "*" }
            guard let origin, !origin.isEmpty else { return nil }
            if origins.contains(origin) || originPatterns.contains(where: { $0.matches(origin) }) { return origin }
            return nil
        }

        /// The headers of the answer to a preflight request (OPTIONS with Origin and
        /// Access-Control-Request-Method), nil for any other request.
        func preflightAnswer(to head: HTTPRequestHead) -> HTTPHeaders? {
            guard head.method == .OPTIONS, let origin = head.headers.first(name: "origin"), !origin.isEmpty,
                head.headers.first(name: "access-control-request-method")?.isEmpty == false
            else { return nil }
            var headers = HTTPHeaders()
            if allowCredentials { headers.add(name: "Access-Control-Allow-Credentials", value: "true") }
            if !allowHeaders.isEmpty { headers.add(name: "Access-Control-Allow-Headers", value: allowHeaders) }
            if !allowMethods.isEmpty { headers.add(name: "Access-Control-Allow-Methods", value: allowMethods) }
            if let allowed = allowedOrigin(origin) { headers.add(name: "Access-Control-Allow-Origin", value: allowed) }
            headers.add(name: "Access-Control-Max-Age", value: String(maxAge))
            return headers
        }

        func decorate(_ head: inout HTTPResponseHead, request: HTTPRequestHead) {
            if let allowed = allowedOrigin(request.headers.first(name: "origin")) {
                head.headers.replaceOrAdd(name: "Access-Control-Allow-Origin", value: allowed)
            }
            if allowCredentials { head.headers.replaceOrAdd(name: "Access-Control-Allow-Credentials", value: "true") }
            if !exposeHeaders.isEmpty { head.headers.replaceOrAdd(name: "Access-Control-Expose-Headers", value: exposeHeaders) }
            guard addVaryHeader else { return }
            let vary = head.headers.first(name: "vary") ?? ""
            guard vary != "Origin" else { return }
            head.headers.replaceOrAdd(name: "Vary", value: vary.isEmpty ? "Origin" : vary + ",Origin")
        }
    }
}
