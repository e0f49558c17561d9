import SwitchyardConfig
import SwitchyardMiddleware
import SwitchyardUpstream

/// Compiling middlewares: each type by its factory; `errors` and `chain` here, as they name other resources.
extension RoutingTableBuild {
    mutating func compileMiddlewares() {
        for (name, issue) in rejected(.httpMiddleware) where http.middlewares?[name] == nil {
            status.middlewares[name] = MiddlewareInfo(
                name: name, provider: Self.provider(of: name), middleware: Middleware(), status: .disabled,
                errors: [issue.description], usedBy: [], type: "")
        }
        for (name, middleware) in (http.middlewares ?? [:]).sorted(by: { $0.key < $1.key }) {
            let types = middleware.configuredTypes
            var info = MiddlewareInfo(
                name: name, provider: Self.provider(of: name), middleware: middleware, status: .enabled, errors: [],
                usedBy: [], type: types.first ?? "")
            if types.count != 1 {
                let message = types.isEmpty
                    ? "the middleware sets no type (such as stripPrefix or headers)"
                    : "the middleware sets more than one type (\(types.joined(separator: ", "))); define one middleware per type"
                info.status = .disabled
                info.errors.append(report(.httpMiddleware, name, message))
            } else if types[0] == "chain" {
                // Built below, once the middlewares it names are.
            } else if types[0] == "errors", let options = middleware.errors {
                // Needs a service: built here, where services are known.
                if let serviceName = options.service, let service = services[serviceName] {
                    status.services[serviceName]?.usedBy.append(name)
                    do {
                        builtMiddlewares[name] = ErrorPages(policy: try ErrorPagesPolicy.make(options, service: service))
                    } catch {
                        info.status = .disabled
                        info.errors.append(report(.httpMiddleware, name, key: "errors", error.description))
                    }
                } else {
                    info.status = .disabled
                    let message = options.service.map {
                        status.services[$0] == nil ? "the service \"\($0)\" does not exist" : "the service \"\($0)\" is disabled"
                    } ?? "the middleware names no service"
                    info.errors.append(report(.httpMiddleware, name, key: "errors.service", message))
                }
            } else if let kept = previous[name], kept.definition == middleware {
                builtMiddlewares[name] = kept.middleware
            } else if let factory = compiler.middlewares.factory(for: types[0]) {
                do {
                    builtMiddlewares[name] = try factory.make(name: name, options: middleware)
                } catch {
                    info.status = .disabled
                    info.errors.append(report(.httpMiddleware, name, key: types[0], "\(error)"))
                }
            } else {
                info.status = .disabled
                info.errors.append(
                    report(.httpMiddleware, name, key: types[0], "the middleware type '\(types[0])' is not supported yet"))
            }
            status.middlewares[name] = info
        }
        for (name, middleware) in (http.middlewares ?? [:]).sorted(by: { $0.key < $1.key })
        where middleware.configuredTypes == ["chain"] {
            var visiting: [String] = []
            _ = compileChain(name, visiting: &visiting)
        }
    }

    /// Builds the chain `name` from the middlewares it names (chains included); a missing or disabled member, or
    /// a chain that names itself through others, disables it.
    mutating func compileChain(_ name: String, visiting: inout [String]) -> (any HTTPMiddleware)? {
        if let built = builtMiddlewares[name] { return built }
        guard let members = http.middlewares?[name]?.chain?.middlewares, status.middlewares[name]?.status != .disabled
        else { return nil }
        func fail(_ message: String) -> (any HTTPMiddleware)? {
            let error = report(.httpMiddleware, name, key: "chain.middlewares", message)
            status.middlewares[name]?.status = .disabled
            status.middlewares[name]?.errors.append(error)
            return nil
        }
        guard !members.isEmpty else { return fail("the chain names no middleware") }
        guard !visiting.contains(name) else {
            return fail("the chain includes itself: \((visiting + [name]).joined(separator: " -> "))")
        }
        visiting.append(name)
        defer { visiting.removeLast() }
        var chain: [any HTTPMiddleware] = []
        for member in members {
            status.middlewares[member]?.usedBy.append(name)
            if let built = builtMiddlewares[member] ?? compileChain(member, visiting: &visiting) {
                chain.append(built)
            } else if let existing = status.middlewares[member] {
                return fail("middleware \"\(member)\" is disabled: \(existing.errors.first ?? "")")
            } else {
                return fail("middleware \"\(member)\" does not exist")
            }
        }
        let built = ChainedMiddleware(chain)
        builtMiddlewares[name] = built
        return built
    }
}
