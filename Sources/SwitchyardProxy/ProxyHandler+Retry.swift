import Logging
import NIOCore
import NIOHTTP1
import SwitchyardMiddleware
import SwitchyardRouting
import SwitchyardUpstream

extension ProxyHandler {
    /// Sends the request again, to the balancer's next server, when the route's `retry` allows it (tries left,
    /// a method it may repeat, within its timeout) or `buffering`'s retry expression holds; and only when nothing
    /// of the body went out, or the body was kept to send again. Returns false when the caller must answer the
    /// failure itself.
    func retry(afterNetworkError: Bool, status: Int?, context: ChannelHandlerContext) -> Bool {
        guard let request, let balancer, !bodyForwarded || replay != nil, let scope else {
            return false
        }
        var delay: Int64 = 0
        if let policy = scope.retry, attempt < policy.attempts, policy.allows(request.method),
            afterNetworkError ? policy.onNetworkError : status.map(policy.retries(status:)) == true,
            policy.timeout == 0 || firstTry.map({ NIODeadline.now() - $0 < .nanoseconds(policy.timeout) }) ?? true
        {
            delay = policy.delay(beforeTry: attempt + 1)
        } else if scope.buffering?.retries(afterNetworkError: afterNetworkError, status: status, attempts: attempt) != true {
            return false
        }
        guard let server = balancer.nextServer() else { return false }
        attempt += 1
        responseTimeout?.cancel()
        responseTimeout = nil
        let upstreamHead = forwarded(request, to: server, by: balancer)
        self.upstreamHead = upstreamHead
        self.server = server
        pending = replay ?? (requestEnded ? [.end(nil)] : [])
        // Body parts that arrive meanwhile wait in `pending`, as while connecting.
        phase = .connecting
        holdReads(true)
        let generation = self.generation
        logger.debug("retrying", metadata: ["try": "\(attempt)", "server": "\(server.url)"])
        context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(delay)) {
            guard generation == self.generation else { return }
            self.connect(to: server, first: .head(upstreamHead), fresh: false)
        }
        return true
    }

    /// The main service of a `failover` answered a status its `errors` name: the request goes to the fallback
    /// instead, once, with its body when that was kept (else only when it had none).
    func failOverToFallback(_ fallback: StatusFallback, context: ChannelHandlerContext) -> Bool {
        statusFallback = nil
        guard let request, !bodyForwarded || replay != nil else { return false }
        var ignoredMirrors: [MirroringServices.Mirror] = []
        var further: StatusFallback?
        guard case .loadBalancer(let balancer)? = fallback.target.resolved(
            client: clientAddress, headers: request.headers, mirrors: &ignoredMirrors, setCookies: &setCookies,
            statusFallback: &further),
            let (server, setCookie) = balancer.server(cookieHeaders: balancer.sticky == nil ? [] : request.headers["cookie"])
        else { return false }
        statusFallback = further
        if let setCookie { setCookies.append(setCookie) }
        if let (load, index) = inFlight { load.ended(index) }
        inFlight = nil
        if let load = balancer.load, let index = balancer.servers.firstIndex(of: server) {
            load.began(index)
            inFlight = (load, index)
        }
        responseTimeout?.cancel()
        responseTimeout = nil
        self.balancer = balancer
        self.server = server
        let upstreamHead = forwarded(request, to: server, by: balancer)
        self.upstreamHead = upstreamHead
        pending = replay ?? (requestEnded ? [.end(nil)] : [])
        logger.debug("failing over on the status", metadata: ["service": "\(balancer.name)", "server": "\(server.url)"])
        connect(to: server, first: .head(upstreamHead), fresh: false)
        return true
    }

    /// A server that could not be connected to got nothing of the request, so the request goes at once to another
    /// server of the same load balancer, whatever its method, each server at most once: a container that has just
    /// stopped, before its provider noticed, costs the client nothing. `afterSending`: the server closed the
    /// connection before answering a request it got whole; only idempotent requests whose body (if any) has not
    /// gone out go on, as nginx's `proxy_next_upstream error` does.
    func failOverToAnotherServer(afterSending: Bool = false) -> Bool {
        guard let balancer, let request, let failed = server, balancer.servers.count > 1 else { return false }
        if afterSending {
            guard !bodyForwarded || replay != nil, Self.idempotentMethods.contains(request.method) else { return false }
        }
        refusedBy.append(failed)
        guard refusedBy.count < balancer.servers.count else { return false }
        var next: UpstreamServer?
        for _ in 0..<balancer.servers.count {
            guard let candidate = balancer.nextServer() else { break }
            if !refusedBy.contains(candidate) {
                next = candidate
                break
            }
        }
        guard let next else { return false }
        if afterSending {
            pending = replay ?? (requestEnded ? [.end(nil)] : [])
        } else if !pending.isEmpty {
            // The head for the failed server leads `pending`; the body parts after it were not sent either.
            pending.removeFirst()
        }
        let upstreamHead = forwarded(request, to: next, by: balancer)
        self.upstreamHead = upstreamHead
        self.server = next
        if let (load, index) = inFlight, let nextIndex = balancer.servers.firstIndex(of: next) {
            load.ended(index)
            load.began(nextIndex)
            inFlight = (load, nextIndex)
        }
        logger.debug("connecting to another server", metadata: ["refused": "\(failed.url)", "server": "\(next.url)"])
        connect(to: next, first: .head(upstreamHead), fresh: false)
        return true
    }

    static let idempotentMethods: [HTTPMethod] = [.GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE]
}
