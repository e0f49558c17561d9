import SwitchyardConfig

/// A rule compiled for evaluation: arguments normalised and regexes built once.
public indirect enum Matcher: Sendable {
    case host(String)
    /// `*.example.com`: exactly one label before the suffix (stored as `.example.com`).
    case hostWildcard(suffix: String)
    case anyHost
    case hostRegexp(CompiledRegex)
    case path(String)
    case pathPrefix(String)
    case pathRegexp(CompiledRegex)
    case method(String)
    case header(name: String, value: String)
    case headerRegexp(name: String, regex: CompiledRegex)
    case query(name: String, value: String?)
    case queryRegexp(name: String, regex: CompiledRegex)
    case clientIP(IPNetwork)
    case not(Matcher)
    case and(Matcher, Matcher)
    case or(Matcher, Matcher)

    public func matches(_ request: RoutingRequest) -> Bool {
        switch self {
        case .host(let host):
            return request.host == host
        case .hostWildcard(let suffix):
            guard request.host.hasSuffix(suffix) else { return false }
            let label = request.host.dropLast(suffix.count)
            return !label.isEmpty && !label.contains(".")
        case .anyHost:
            return true
        case .hostRegexp(let regex):
            return regex.matches(request.host)
        case .path(let path):
            // Bytes, as Traefik compares them (and without String's character-by-character path for a Substring).
            return request.path.utf8.elementsEqual(path.utf8)
        case .pathPrefix(let prefix):
            return request.path.utf8.starts(with: prefix.utf8)
        case .pathRegexp(let regex):
            return regex.matches(request.path)
        case .method(let method):
            return request.method.rawValue == method
        case .header(let name, let value):
            return request.headers[name].contains(value)
        case .headerRegexp(let name, let regex):
            return request.headers[name].contains { regex.matches($0) }
        case .query(let name, let value):
            let values = request.queryValues(name)
            guard let value else { return !values.isEmpty }
            return values.contains(value)
        case .queryRegexp(let name, let regex):
            return request.queryValues(name).contains { regex.matches($0) }
        case .clientIP(let network):
            return !request.clientAddress.isEmpty && network.contains(request.clientAddress)
        case .not(let inner):
            return !inner.matches(request)
        case .and(let lhs, let rhs):
            return lhs.matches(request) && rhs.matches(request)
        case .or(let lhs, let rhs):
            return lhs.matches(request) || rhs.matches(request)
        }
    }

    /// Hosts one of which a request must have for this matcher to match; nil when any host may match.
    /// Used to index routers by host.
    var requiredHosts: Set<String>? {
        switch self {
        case .host(let host): return [host]
        case .and(let lhs, let rhs):
            switch (lhs.requiredHosts, rhs.requiredHosts) {
            case let (l?, r?): return l.intersection(r)
            case let (l?, nil): return l
            case let (nil, r?): return r
            case (nil, nil): return nil
            }
        case .or(let lhs, let rhs):
            guard let l = lhs.requiredHosts, let r = rhs.requiredHosts else { return nil }
            return l.union(r)
        default: return nil
        }
    }
}

/// Compiles parsed rules into matchers, checking what the parser cannot (regexes).
public enum MatcherCompiler {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public static func compile(rule: String) throws(Failure) -> Matcher {
        let expression: RuleExpression
        do {
            expression = try RuleParser.parse(rule)
        } catch {
            throw Failure(message: "invalid rule: \(error.description)")
        }
        return try compile(expression)
    }

    public static func compile(_ expression: RuleExpression) throws(Failure) -> Matcher {
        switch expression {
        case .not(let inner): return .not(try compile(inner))
        case .and(let lhs, let rhs): return .and(try compile(lhs), try compile(rhs))
        case .or(let lhs, let rhs): return .or(try compile(lhs), try compile(rhs))
        case .matcher(let matcher): return try compile(matcher)
        }
    }

    private static func regex(_ pattern: String, _ matcher: RuleMatcher) throws(Failure) -> CompiledRegex {
        do {
            return try CompiledRegex(pattern)
        } catch {
            throw Failure(
                message: "invalid rule: column \(matcher.column): \(matcher.kind.rawValue): \(error.description)")
        }
    }

    private static func compile(_ matcher: RuleMatcher) throws(Failure) -> Matcher {
        let args = matcher.arguments
        switch matcher.kind {
        case .host:
            let host = args[0].lowercased()
            if host == "*" { return .anyHost }
            if host.hasPrefix("*.") { return .hostWildcard(suffix: String(host.dropFirst())) }
            return .host(host.hasSuffix(".") ? String(host.dropLast()) : host)
        case .hostRegexp: return .hostRegexp(try regex(args[0], matcher))
        case .path: return .path(args[0])
        case .pathPrefix: return .pathPrefix(args[0])
        case .pathRegexp: return .pathRegexp(try regex(args[0], matcher))
        case .method: return .method(args[0].uppercased())
        case .header: return .header(name: args[0], value: args[1])
        case .headerRegexp: return .headerRegexp(name: args[0], regex: try regex(args[1], matcher))
        case .query: return .query(name: args[0], value: args.count > 1 ? args[1] : nil)
        case .queryRegexp: return .queryRegexp(name: args[0], regex: try regex(args[args.count - 1], matcher))
        case .clientIP:
            guard let network = IPNetwork(args[0]) else {
                throw Failure(message: "invalid rule: column \(matcher.column): ClientIP: '\(args[0])' is not an IP or CIDR")
            }
            return .clientIP(network)
        }
    }
}
