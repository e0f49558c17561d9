import NIOCore
import NIOHTTP1
import SwitchyardConfig
import SwitchyardMiddleware

/// What entry points give the routers on them (`entryPoints.<name>.http`): TLS, middlewares, a redirection.
extension RoutingTableBuild {
    /// The route as it runs on `entryPoint`: the entry point's middlewares first, and TLS when the router or the
    /// entry point asks for it. Nil when the entry point's part fails (recorded on the router, which keeps its other
    /// entry points).
    mutating func applyModel(of entryPoint: String, to route: Route, router: Router, info: inout RouterInfo)
        -> (Route, RouterTLS?)?
    {
        guard let model = compiler.entryPointModels[entryPoint] else { return (route, router.tls) }
        var tls = router.tls
        if tls == nil, let entryTLS = model.tls {
            if case .failure(let failure) = checkTLS(entryTLS, router: route.name) {
                info.errors.append(report(
                    .httpRouter, route.name, key: "entryPoints",
                    "entry point \(entryPoint): \(failure.message)", severity: .warning))
                info.status = .warning
                return nil
            }
            tls = entryTLS
        }
        guard !model.middlewares.isEmpty else { return (route, tls) }
        let provider = Self.provider(of: route.name)
        var chain: [any HTTPMiddleware] = []
        for reference in model.middlewares {
            let name = ResourceName.qualify(reference, in: provider)
            guard let built = builtMiddlewares[name] else {
                info.errors.append(report(
                    .httpRouter, route.name, key: "entryPoints",
                    "entry point \(entryPoint) names middleware \"\(name)\", which \(status.middlewares[name] == nil ? "does not exist" : "is disabled")",
                    severity: .warning))
                info.status = .warning
                return nil
            }
            if status.middlewares[name]?.usedBy.contains(route.name) == false { status.middlewares[name]?.usedBy.append(route.name) }
            chain.append(built)
        }
        let placed = Route(
            name: route.name, priority: route.priority, rule: route.rule, matcher: route.matcher,
            middlewares: chain + route.middlewares, serviceName: route.serviceName, service: route.service,
            order: route.order)
        return (placed, tls)
    }

    /// `http.redirections.entryPoint`: a router of its own on the entry point that answers every request with a
    /// redirection, as Traefik's `<entrypoint>-to-<target>@internal`.
    mutating func compileRedirections() {
        for (entryPoint, model) in compiler.entryPointModels.sorted(by: { $0.key < $1.key }) {
            guard let redirect = model.redirect, compiler.entryPoints.contains(entryPoint) else { continue }
            let name = "\(entryPoint)-to-\(redirect.target)@internal"
            var options = RedirectSchemeMiddleware()
            options.scheme = redirect.scheme
            options.port = redirect.port
            options.permanent = redirect.permanent
            var definition = Middleware()
            definition.redirectScheme = options
            let rule = "PathPrefix(`/`)"
            var router = Router()
            router.rule = rule
            router.entryPoints = [entryPoint]
            router.priority = redirect.priority
            router.service = "noop@internal"
            var info = RouterInfo(
                name: name, provider: "internal", router: router, status: .enabled, errors: [], using: [entryPoint],
                effectivePriority: redirect.priority)
            do {
                guard let factory = compiler.middlewares.factory(for: "redirectScheme") else {
                    throw MiddlewareConfigurationError("the redirectScheme middleware is not available")
                }
                let middleware = try factory.make(name: "redirect-\(name)", options: definition)
                let matcher = try MatcherCompiler.compile(rule: rule)
                routeOrder += 1
                let route = Route(
                    name: name, priority: redirect.priority, rule: rule, matcher: matcher, middlewares: [middleware],
                    serviceName: "noop@internal", service: .internal(NoopService()), order: routeOrder)
                routesByEntryPoint[entryPoint, default: []].append(route)
                secureRoutesByEntryPoint[entryPoint, default: []].append(route)
            } catch {
                info.status = .disabled
                info.errors.append("the redirection cannot be built: \(error)")
            }
            status.routers[name] = info
        }
    }
}

/// The service behind routers whose middlewares always answer (redirections): it is never reached; if it were,
/// it would say 404.
struct NoopService: InternalService {
    func respond(to request: HTTPRequestHead, on eventLoop: any EventLoop) -> EventLoopFuture<InternalResponse> {
        eventLoop.makeSucceededFuture(InternalResponse(status: .notFound, body: ByteBuffer(string: "404 page not found\n")))
    }
}

/// Answers every request with one status (`invalid-backend@internal`: 500).
struct FixedStatusService: InternalService {
    var status: HTTPResponseStatus

    func respond(to request: HTTPRequestHead, on eventLoop: any EventLoop) -> EventLoopFuture<InternalResponse> {
        eventLoop.makeSucceededFuture(InternalResponse(status: status, body: ByteBuffer(string: "\(status.code) \(status.reasonPhrase)\n")))
    }
}
