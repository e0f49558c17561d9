import SwitchyardConfig

extension EntryPointRoutes {
    /// The routes that can never match here because one evaluated before them matches every request they match:
    /// route name → the name of the first such route. Only the cases the rules make certain are found (equal clauses,
    /// a longer path prefix under a shorter one, a host under a wildcard or a host regexp, every clause of the earlier
    /// route implied by one of the later's); each route is compared with at most `comparisons` routes before it.
    func shadowedRoutes(comparisons: Int = 256) -> [String: String] {
        var position: [ObjectIdentifier: Int] = [:]
        for (index, route) in routes.enumerated() { position[ObjectIdentifier(route)] = index }
        var shadowed: [String: String] = [:]
        for (index, route) in routes.enumerated() {
            let earlier: [Route]
            if let hosts = route.matcher.requiredHosts {
                earlier = hosts.flatMap { candidates(forHost: $0) }
            } else {
                earlier = candidates(forHost: "")
            }
            var compared = 0
            for candidate in earlier where position[ObjectIdentifier(candidate)].map({ $0 < index }) ?? false {
                if candidate.matcher.covers(route.matcher) {
                    shadowed[route.name] = candidate.name
                    break
                }
                compared += 1
                if compared >= comparisons { break }
            }
        }
        return shadowed
    }
}

extension Matcher {
    /// Whether every request `other` matches is certainly matched by this matcher (false when unsure): each way
    /// `other` can match (a term of its disjunctive form) holds every clause of some term of this one's.
    func covers(_ other: Matcher) -> Bool {
        guard let mine = disjunctiveForm, let theirs = other.disjunctiveForm else { return false }
        return theirs.allSatisfy { term in
            mine.contains { clauses in
                clauses.allSatisfy { clause in clause.alwaysMatches || term.contains { $0.implies(clause) } }
            }
        }
    }

    /// The matcher as an `||` of `&&`s of leaves (or negated leaves); nil past 16 terms or with `!` over a group.
    private var disjunctiveForm: [[Matcher]]? {
        switch self {
        case .or(let lhs, let rhs):
            guard let left = lhs.disjunctiveForm, let right = rhs.disjunctiveForm, left.count + right.count <= 16 else {
                return nil
            }
            return left + right
        case .and(let lhs, let rhs):
            guard let left = lhs.disjunctiveForm, let right = rhs.disjunctiveForm, left.count * right.count <= 16 else {
                return nil
            }
            return left.flatMap { l in right.map { r in l + r } }
        case .not(let inner):
            switch inner {
            case .and, .or: return nil
            default: return [[self]]
            }
        default: return [[self]]
        }
    }

    private var alwaysMatches: Bool {
        switch self {
        case .anyHost: return true
        case .pathPrefix(let prefix): return prefix == "/" || prefix.isEmpty
        default: return false
        }
    }

    /// Whether a request that matches this clause certainly matches `clause`.
    private func implies(_ clause: Matcher) -> Bool {
        switch (self, clause) {
        case (.host(let a), .host(let b)): return a == b
        case (.host(let host), .hostWildcard(let suffix)):
            return host.hasSuffix(suffix) && host.count > suffix.count && !host.dropLast(suffix.count).contains(".")
        case (.host(let host), .hostRegexp(let regex)): return regex.matches(host)
        case (.hostWildcard(let a), .hostWildcard(let b)): return a == b
        case (.hostRegexp(let a), .hostRegexp(let b)): return a.pattern == b.pattern
        case (.path(let a), .path(let b)): return a == b
        case (.path(let path), .pathPrefix(let prefix)): return path.hasPrefix(prefix)
        case (.path(let path), .pathRegexp(let regex)): return regex.matches(path[...])
        case (.pathPrefix(let a), .pathPrefix(let b)): return a.hasPrefix(b)
        case (.pathRegexp(let a), .pathRegexp(let b)): return a.pattern == b.pattern
        case (.method(let a), .method(let b)): return a == b
        case (.header(let n1, let v1), .header(let n2, let v2)): return n1.lowercased() == n2.lowercased() && v1 == v2
        case (.query(let n1, let v1), .query(let n2, let v2)): return n1 == n2 && (v2 == nil || v1 == v2)
        case (.clientIP(let a), .clientIP(let b)): return a.prefixLength >= b.prefixLength && b.contains(a.address)
        case (.not(let a), .not(let b)): return b.implies(a)
        default: return false
        }
    }
}

extension RoutingTableBuild {
    /// Routers that can never win, on any entry point they are on, are served but carry a warning naming the router
    /// that takes their requests.
    mutating func reportShadowedRouters(_ tables: [EntryPointRoutes]) {
        var appearances: [String: Int] = [:]
        var shadowed: [String: [(entryPoint: String, by: String)]] = [:]
        for table in tables.sorted(by: { $0.name < $1.name }) {
            for route in table.routes { appearances[route.name, default: 0] += 1 }
            for (name, by) in table.shadowedRoutes() { shadowed[name, default: []].append((table.name, by)) }
        }
        for (name, cases) in shadowed.sorted(by: { $0.key < $1.key }) where cases.count == appearances[name] {
            guard var info = status.routers[name], info.provider != "internal" else { continue }
            let winners = cases.map { entryPoint, by in
                "router \"\(by)\" (priority \(status.routers[by]?.effectivePriority ?? 0)) on entry point \(entryPoint)"
            }
            info.errors.append(report(
                .httpRouter, name, key: "rule",
                "the router can never win: every request it matches is taken first by "
                    + winners.joined(separator: ", by "),
                severity: .warning))
            if info.status == .enabled { info.status = .warning }
            status.routers[name] = info
        }
    }
}
