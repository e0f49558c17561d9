import CompressNIO
import Logging
import NIOCore
import NIOHTTP1
import SwitchyardMiddleware
import SwitchyardRouting
import SwitchyardUpstream

/// Serves the HTTP/1.1 requests of one client connection: routes each by the table in force, runs its middlewares,
/// and streams it to an upstream server and the response back, with back-pressure both ways.
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Where the current request is.
    private enum Phase {
        case idle
        /// A middleware decides off the event loop; body parts wait in `pending`.
        case deciding
        /// Waiting for an upstream connection; body parts wait in `pending`.
        case connecting
        /// Request and response flowing.
        case proxying(UpstreamConnection)
        /// Answered locally (404, 502, internal service); the rest of the request body is dropped.
        case answeredLocally
        /// Switched protocols; the channel is being handed to a tunnel.
        case upgraded
    }

    private let settings: EntryPointSettings
    private let slot: RoutingTableStore.Slot
    private let pool: UpstreamConnectionPool
    private let logger: Logger

    private var context: ChannelHandlerContext?
    private var clientAddress: [UInt8] = []
    private var clientIP = ""

    private var phase = Phase.idle
    private var request: HTTPRequestHead?
    private var route: Route?
    private var middlewareContext: MiddlewareContext?
    private var pending: [HTTPClientRequestPart] = []
    private var requestEnded = false
    private var responseStarted = false
    private var keepAlive = true
    private var isUpgradeRequest = false
    private var upstreamKeepsAlive = true
    private var switchingProtocols = false
    /// What went upstream, kept to send again once when a reused connection turns out closed.
    private var upstreamHead: HTTPRequestHead?
    private var server: UpstreamServer?
    private var bodyForwarded = false
    /// The sticky cookie to send with this response, when the client is not yet stuck to its server.
    private var setCookie: String?
    /// Tells passive health checking that the current server failed this request.
    private func recordServerFailure() {
        middlewareContext?.scope.upstreamFailed = true
        guard let balancer, let health = balancer.health, health.passive != nil, let server,
            let index = balancer.servers.firstIndex(of: server), health.recordFailure(index)
        else { return }
        logger.warning("passive health check: server ejected", metadata: ["service": "\(balancer.name)", "server": "\(server.url)"])
    }

    /// Compresses the response body when the `compress` middleware asked and the response qualifies.
    private var compressor: (any NIOCompressor)?

    /// Copies of this request going to mirrors (`mirroring` services).
    private var mirrors: [MirrorExchange] = []

    /// The status to answer with while an error page (the `errors` middleware) replaces the server's answer.
    private var errorPageStatus: Int?

    /// The balancer that chose the server, and which try this is (for `retry`).
    private var balancer: LoadBalancer?
    private var attempt = 1

    /// The server this exchange counts against (p2c), released once when the exchange ends.
    private var inFlight: (load: ServerLoad, index: Int)?

    /// Ends the exchange's accounting, once: the server's in-flight count (p2c) and the middlewares' completions.
    private func releaseInFlight() {
        if let (load, index) = inFlight { load.ended(index) }
        inFlight = nil
        middlewareContext?.scope.complete()
    }
    private var readsHeld = false
    /// From a request's head until its response has ended.
    private var inExchange = false
    /// Parts of pipelined requests waiting for the current exchange to end.
    private var queued = CircularBuffer<HTTPServerRequestPart>()
    private var draining = false
    private var quiescing = false
    private var heldRead = false
    private var responseTimeout: Scheduled<Void>?
    /// Bumped for every request so late callbacks of an earlier request are ignored.
    private var generation = 0

    init(settings: EntryPointSettings, slot: RoutingTableStore.Slot, pool: UpstreamConnectionPool, logger: Logger) {
        self.settings = settings
        self.slot = slot
        self.pool = pool
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let remote = context.channel.remoteAddress {
            (clientAddress, clientIP) = remote.clientIdentity
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Client → proxy

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if !queued.isEmpty || (inExchange && requestEnded) {
            // A pipelined request: it waits until the response to the one before is complete. Reading goes on
            // (no epoll change per request, as a read-gating pipeline handler would cost) up to a bound.
            queued.append(part)
            return
        }
        handle(part, context: context)
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            receivedHead(head, context: context)
        case .body(let buffer):
            bodyForwarded = true
            forwardRequestPart(.body(.byteBuffer(buffer)))
        case .end(let trailers):
            requestEnded = true
            forwardRequestPart(.end(trailers))
            if case .answeredLocally = phase, responseEndedLocally { finishRequest(context: context) }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .proxying(let upstream) = phase { upstream.flush() }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if readAllowed { context.read() } else { heldRead = true }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else { return context.fireUserInboundEventTriggered(event) }
        // Shutting down: idle connections close now, busy ones after their response.
        quiescing = true
        keepAlive = false
        if !inExchange && queued.isEmpty { context.close(promise: nil) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .proxying(let upstream) = phase {
            if context.channel.isWritable { upstream.resumeReading() } else { upstream.pauseReading() }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The client is gone: whatever the upstream is doing for it is cancelled.
        releaseInFlight()
        generation += 1
        responseTimeout?.cancel()
        if case .proxying(let upstream) = phase {
            upstream.delegate = nil
            upstream.close()
        }
        phase = .idle
        pending.removeAll()
        context.fireChannelInactive()
    }

    /// Reading stops while the upstream cannot take more, or while too many pipelined parts wait.
    private var readAllowed: Bool { !readsHeld && queued.count < Self.maximumQueuedParts }
    static let maximumQueuedParts = 64

    private func holdReads(_ hold: Bool) {
        readsHeld = hold
        resumeReadsIfAllowed()
    }

    private func resumeReadsIfAllowed() {
        if heldRead, readAllowed, let context {
            heldRead = false
            context.read()
        }
    }

    /// Serves pipelined requests that arrived while the previous one was answered.
    private func drainQueued(context: ChannelHandlerContext) {
        guard !draining else { return }
        draining = true
        defer { draining = false }
        while !queued.isEmpty && !(inExchange && requestEnded) && context.channel.isActive {
            handle(queued.removeFirst(), context: context)
        }
        resumeReadsIfAllowed()
    }

    private func receivedHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        releaseInFlight()
        generation += 1
        inExchange = true
        request = head
        requestEnded = false
        responseStarted = false
        responseEndedLocally = false
        switchingProtocols = false
        upstreamHead = nil
        server = nil
        middlewareContext = nil
        mirrors = []
        errorPageStatus = nil
        compressor = nil
        balancer = nil
        attempt = 1
        setCookie = nil
        bodyForwarded = false
        pending.removeAll()
        keepAlive = head.isKeepAlive && !quiescing
        isUpgradeRequest = ForwardedRequest.isUpgrade(head)

        let table = slot.table
        guard let entryPoint = table.entryPoints[settings.name] else {
            return answer(.notFound, body: "404 page not found\n", context: context)
        }
        let routingRequest = RoutingRequest(head: head, clientAddress: clientAddress)
        guard let route = entryPoint.route(routingRequest) else {
            return answer(.notFound, body: "404 page not found\n", context: context)
        }
        self.route = route
        var head = head
        if !route.middlewares.isEmpty {
            let middlewareContext = MiddlewareContext(
                entryPoint: settings.name, router: route.name, clientAddress: clientAddress, clientIP: clientIP,
                scheme: settings.scheme, eventLoop: context.eventLoop)
            self.middlewareContext = middlewareContext
            switch route.middlewares.handleRequest(&head, context: middlewareContext) {
            case .proceed:
                request = head
            case .respond(let status, let headers, let body):
                return answer(status, headers: headers, body: body, context: context)
            case .later(let decision):
                return awaitDecision(decision, route: route, context: context)
            }
        }
        dispatch(head, route: route, context: context)
    }

    /// A middleware decides off the event loop: the body waits (reads held) until it has.
    private func awaitDecision(
        _ decision: EventLoopFuture<MiddlewareAction.Decision>, route: Route, context: ChannelHandlerContext
    ) {
        phase = .deciding
        holdReads(true)
        let generation = self.generation
        decision.assumeIsolated().whenComplete { result in
            guard generation == self.generation, case .deciding = self.phase, let context = self.context else { return }
            self.holdReads(false)
            switch result {
            case .success(let decision):
                switch decision.action {
                case .proceed:
                    self.request = decision.head
                    self.dispatch(decision.head, route: route, context: context)
                case .respond(let status, let headers, let body):
                    self.answer(status, headers: headers, body: body, context: context)
                case .later:
                    self.answer(.internalServerError, body: "Internal Server Error\n", context: context)
                }
            case .failure(let error):
                self.logger.error("middleware failed", metadata: ["router": "\(route.name)", "error": "\(error)"])
                self.answer(.internalServerError, body: "Internal Server Error\n", context: context)
            }
        }
    }

    /// Sends the request to the route's service.
    private func dispatch(_ head: HTTPRequestHead, route: Route, context: ChannelHandlerContext) {
        var mirrors: [MirroringServices.Mirror] = []
        guard let service = route.service.resolved(client: clientAddress, mirrors: &mirrors) else {
            return answer(.serviceUnavailable, body: "no available server\n", context: context)
        }
        switch service {
        case .weighted, .failover, .highestRandomWeight, .mirroring:
            // `resolved()` never ends on these.
            answer(.serviceUnavailable, body: "no available server\n", context: context)
        case .internal(let service):
            phase = .answeredLocally
            let generation = self.generation
            service.respond(to: head, on: context.eventLoop).assumeIsolated().whenComplete { result in
                guard generation == self.generation, let context = self.context else { return }
                switch result {
                case .success(let response):
                    self.writeLocalResponse(response.status, headers: response.headers, body: response.body, context: context)
                case .failure:
                    self.answer(.internalServerError, body: "Internal Server Error\n", context: context)
                }
            }
        case .loadBalancer(let balancer):
            let cookies = balancer.sticky == nil ? [] : head.headers["cookie"]
            guard let (server, setCookie) = balancer.server(cookieHeaders: cookies) else {
                return answer(.serviceUnavailable, body: "no available server\n", context: context)
            }
            self.setCookie = setCookie
            self.balancer = balancer
            self.server = server
            if let load = balancer.load, let index = balancer.servers.firstIndex(of: server) {
                load.began(index)
                inFlight = (load, index)
            }
            if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                // Ask for the body now; the upstream request goes without Expect.
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
            let upstreamHead = ForwardedRequest.make(
                from: head, server: server, passHostHeader: balancer.passHostHeader, clientIP: clientIP,
                scheme: settings.scheme, proxyHostname: settings.hostname)
            self.mirrors = mirrors.compactMap {
                MirrorExchange(
                    mirror: $0, head: head, clientIP: clientIP, scheme: settings.scheme, hostname: settings.hostname,
                    pool: pool, client: clientAddress)
            }
            // Parts that came while a middleware decided are waiting in `pending`: the copies get them too.
            for part in pending { for mirror in self.mirrors { mirror.send(part) } }
            self.upstreamHead = upstreamHead
            self.server = server
            connect(to: server, first: .head(upstreamHead), fresh: isUpgradeRequest)
        }
    }

    private func connect(to server: UpstreamServer, first: HTTPClientRequestPart, fresh: Bool) {
        pending.insert(first, at: 0)
        phase = .connecting
        let generation = self.generation
        if !fresh, let idle = pool.takeIdle(server) {
            return connected(.success(idle), generation: generation)
        }
        holdReads(true)
        pool.acquire(server, fresh: fresh).assumeIsolated().whenComplete { result in
            self.connected(result, generation: generation)
        }
    }

    private func connected(_ result: Result<UpstreamConnection, any Error>, generation: Int) {
        guard generation == self.generation, case .connecting = phase, let context else {
            if case .success(let connection) = result { pool.release(connection, reusable: false) }
            return
        }
        switch result {
        case .failure(let error):
            logger.debug("upstream connection failed", metadata: ["error": "\(error)", "router": "\(route?.name ?? "")"])
            recordServerFailure()
            if retry(afterNetworkError: true, status: nil, context: context) { return }
            holdReads(false)
            var timedOut = false
            if case ChannelError.connectTimeout = error { timedOut = true }
            answer(timedOut ? .gatewayTimeout : .badGateway, body: timedOut ? "Gateway Timeout\n" : "Bad Gateway\n", context: context)
        case .success(let upstream):
            upstream.delegate = self
            phase = .proxying(upstream)
            for part in pending { upstream.write(part) }
            pending.removeAll()
            upstream.flush()
            if let timeout = settings.responseHeaderTimeout {
                responseTimeout = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                    self.responseHeaderTimedOut(generation: generation)
                }
            }
            holdReads(!upstream.isWritable)
        }
    }

    private func responseHeaderTimedOut(generation: Int) {
        guard generation == self.generation, !responseStarted, case .proxying(let upstream) = phase, let context else {
            return
        }
        upstream.delegate = nil
        upstream.close()
        recordServerFailure()
        answer(.gatewayTimeout, body: "Gateway Timeout\n", context: context)
    }

    private func forwardRequestPart(_ part: HTTPClientRequestPart) {
        for mirror in mirrors { mirror.send(part) }
        // An error page is fetched with a request of its own; the client's body goes nowhere.
        if errorPageStatus != nil { return }
        switch phase {
        case .connecting, .deciding:
            pending.append(part)
        case .proxying(let upstream):
            if case .end = part { upstream.writeAndFlush(part) } else { upstream.write(part) }
        case .idle, .answeredLocally, .upgraded:
            break
        }
    }

    // MARK: Local answers

    private var responseEndedLocally = false

    private func answer(
        _ status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: String, context: ChannelHandlerContext
    ) {
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        var headers = headers
        if !headers.contains(name: "content-type") { headers.add(name: "content-type", value: "text/plain; charset=utf-8") }
        writeLocalResponse(status, headers: headers, body: buffer, context: context)
    }

    private func writeLocalResponse(
        _ status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, context: ChannelHandlerContext
    ) {
        phase = .answeredLocally
        responseStarted = true
        guard let request else { return }
        var headers = headers
        headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        // Upgrade requests leave the decoder stopped; the connection cannot carry another request.
        if isUpgradeRequest { keepAlive = false }
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        middlewareContext?.scope.responseStatus = Int(status.code)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        responseEndedLocally = true
        if requestEnded {
            finishRequest(context: context)
        } else {
            context.flush()
        }
    }

    /// Ends the response to the current request; closes the connection unless it stays alive.
    private func finishRequest(context: ChannelHandlerContext, trailers: HTTPHeaders? = nil) {
        releaseInFlight()
        responseTimeout?.cancel()
        responseTimeout = nil
        phase = .idle
        route = nil
        holdReads(false)
        inExchange = false
        let close = !keepAlive
        let promise: EventLoopPromise<Void>? = close ? context.eventLoop.makePromise() : nil
        context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: promise)
        if let promise {
            queued.removeAll()
            promise.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        drainQueued(context: context)
    }

    // MARK: Upgrades

    private func switchToTunnel(upstream: UpstreamConnection, context: ChannelHandlerContext) {
        releaseInFlight()
        phase = .upgraded
        responseTimeout?.cancel()
        upstream.delegate = nil
        let client = context.channel
        let (clientSide, upstreamSide) = TunnelHandler.matchedPair()
        do {
            let clientPipeline = client.pipeline.syncOperations
            try clientPipeline.addHandler(clientSide)
            try upstream.becomeTunnel(with: upstreamSide)
            clientPipeline.removeHandler(context: context, promise: nil)
            for handler in HTTPServerHandlers.all(in: client) { clientPipeline.removeHandler(handler, promise: nil) }
        } catch {
            logger.debug("switching protocols failed", metadata: ["error": "\(error)"])
            upstream.close()
            client.close(promise: nil)
        }
    }
}

// MARK: Retries

extension ProxyHandler {
    /// Sends the request again, to the balancer's next server, when the route's `retry` allows it: tries left, no
    /// body sent yet, a method it may repeat. Returns false when the caller must answer the failure itself.
    fileprivate func retry(afterNetworkError: Bool, status: Int?, context: ChannelHandlerContext) -> Bool {
        guard let policy = middlewareContext?.scope.retry, attempt < policy.attempts, !bodyForwarded,
            let request, policy.allows(request.method), let balancer,
            afterNetworkError ? policy.onNetworkError : status.map(policy.retries(status:)) == true,
            let server = balancer.nextServer()
        else { return false }
        attempt += 1
        responseTimeout?.cancel()
        responseTimeout = nil
        let upstreamHead = ForwardedRequest.make(
            from: request, server: server, passHostHeader: balancer.passHostHeader, clientIP: clientIP,
            scheme: settings.scheme, proxyHostname: settings.hostname)
        self.upstreamHead = upstreamHead
        self.server = server
        pending = requestEnded ? [.end(nil)] : []
        // Body parts that arrive meanwhile wait in `pending`, as while connecting.
        phase = .connecting
        holdReads(true)
        let delay = policy.delay(beforeTry: attempt)
        let generation = self.generation
        logger.debug("retrying", metadata: ["try": "\(attempt)", "server": "\(server.url)"])
        context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(delay)) {
            guard generation == self.generation else { return }
            self.connect(to: server, first: .head(upstreamHead), fresh: false)
        }
        return true
    }
}

// MARK: Compression

extension ProxyHandler {
    /// Switches the response to the negotiated encoding when it qualifies: no length (the body changes), the
    /// encoding named, `Vary: Accept-Encoding`. HTTP/1.0 clients get the body as it is (no chunked framing).
    fileprivate func startCompressionIfAsked(_ response: inout HTTPResponseHead, request: HTTPRequestHead) {
        guard let policy = middlewareContext?.scope.compression, request.version != .http1_0,
            policy.applies(to: response, request: request)
        else { return }
        let compressor = CompressionAlgorithm.gzip().compressor
        do {
            try compressor.startStream()
        } catch {
            return
        }
        self.compressor = compressor
        response.headers.remove(name: "content-length")
        response.headers.replaceOrAdd(name: "Content-Encoding", value: policy.encoding)
        let vary = response.headers.first(name: "vary") ?? ""
        if !vary.lowercased().contains("accept-encoding") {
            response.headers.replaceOrAdd(name: "Vary", value: vary.isEmpty ? "Accept-Encoding" : vary + ", Accept-Encoding")
        }
    }

    /// A response that cannot go on: the client learns by the connection closing.
    fileprivate func failMidResponse(_ upstream: UpstreamConnection, context: ChannelHandlerContext) {
        upstream.delegate = nil
        upstream.close()
        compressor = nil
        phase = .idle
        context.close(promise: nil)
    }
}

// MARK: Error pages

extension ProxyHandler {
    /// Replaces the server's answer with the error page of the `errors` middleware: a GET of the page on its
    /// service, answered with the original status (or its rewrite). False when no server can serve the page.
    fileprivate func fetchErrorPage(_ policy: ErrorPagesPolicy, status: Int, context: ChannelHandlerContext) -> Bool {
        guard let request, case .loadBalancer(let pages)? = policy.service.resolved(client: clientAddress), let server = pages.nextServer()
        else { return false }
        let host = request.headers.first(name: "host") ?? ""
        let url = request.uri.hasPrefix("/") ? "\(settings.scheme)://\(host)\(request.uri)" : request.uri
        var headers = request.headers
        for name in ["content-length", "transfer-encoding", "expect"] { headers.remove(name: name) }
        let page = HTTPRequestHead(version: .http1_1, method: .GET, uri: policy.path(for: status, url: url), headers: headers)
        let upstreamHead = ForwardedRequest.make(
            from: page, server: server, passHostHeader: pages.passHostHeader, clientIP: clientIP, scheme: settings.scheme,
            proxyHostname: settings.hostname)
        errorPageStatus = policy.clientStatus(for: status)
        responseTimeout?.cancel()
        responseTimeout = nil
        self.upstreamHead = upstreamHead
        self.server = server
        self.balancer = pages
        pending = [.end(nil)]
        if !requestEnded { keepAlive = false }  // the rest of the client's body is not read into a new request
        connect(to: server, first: .head(upstreamHead), fresh: false)
        return true
    }
}

// MARK: Proxy ← upstream

extension ProxyHandler: UpstreamConnectionDelegate {
    func upstreamReceived(_ part: HTTPClientResponsePart) {
        guard let context, let request, case .proxying(let upstream) = phase else { return }
        switch part {
        case .head(let head):
            if (100..<200).contains(head.status.code) && head.status != .switchingProtocols {
                return  // informational answers are for the proxy
            }
            if middlewareContext?.scope.retry?.retries(status: Int(head.status.code)) == true,
                retry(afterNetworkError: false, status: Int(head.status.code), context: context)
            {
                upstream.delegate = nil
                upstream.close()
                return
            }
            if errorPageStatus == nil, let policy = middlewareContext?.scope.errorPages as? ErrorPagesPolicy,
                policy.matches(Int(head.status.code)), fetchErrorPage(policy, status: Int(head.status.code), context: context)
            {
                upstream.delegate = nil
                upstream.close()
                return
            }
            var head = head
            if let errorPageStatus { head.status = HTTPResponseStatus(statusCode: errorPageStatus) }
            responseStarted = true
            upstreamKeepsAlive = head.isKeepAlive
            responseTimeout?.cancel()
            responseTimeout = nil
            if head.status == .switchingProtocols {
                guard isUpgradeRequest else {
                    upstream.close()
                    return answer(.badGateway, body: "Bad Gateway\n", context: context)
                }
                let response = ForwardedRequest.clientResponse(from: head, version: request.version, keepAlive: true)
                context.write(wrapOutboundOut(.head(response)), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                // The tunnel starts after the 101's end, so no HTTP part reaches it.
                switchingProtocols = true
                return
            }
            if isUpgradeRequest { keepAlive = false }
            let hasLength = head.headers.contains(name: "content-length")
            if request.version == .http1_0 && !hasLength && request.method != .HEAD { keepAlive = false }
            var response = ForwardedRequest.clientResponse(from: head, version: request.version, keepAlive: keepAlive)
            if let setCookie { response.headers.add(name: "Set-Cookie", value: setCookie) }
            startCompressionIfAsked(&response, request: request)
            if let route, let middlewareContext {
                for middleware in route.middlewares.reversed() {
                    middleware.handleResponse(&response, request: request, context: middlewareContext)
                }
            }
            middlewareContext?.scope.responseStatus = Int(response.status.code)
            context.write(wrapOutboundOut(.head(response)), promise: nil)
        case .body(var buffer):
            if let compressor {
                do {
                    buffer = try buffer.compressStream(with: compressor, flush: .sync, allocator: context.channel.allocator)
                } catch {
                    logger.error("compressing a response failed", metadata: ["error": "\(error)"])
                    return failMidResponse(upstream, context: context)
                }
            }
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            if !context.channel.isWritable {
                // Pause first: the flush can make the channel writable again, which resumes reading.
                upstream.pauseReading()
                context.flush()
            }
        case .end(let trailers):
            if switchingProtocols { return switchToTunnel(upstream: upstream, context: context) }
            if let compressor {
                do {
                    var empty = context.channel.allocator.buffer(capacity: 0)
                    let last = try empty.compressStream(with: compressor, flush: .finish, allocator: context.channel.allocator)
                    try compressor.finishStream()
                    self.compressor = nil
                    context.write(wrapOutboundOut(.body(.byteBuffer(last))), promise: nil)
                } catch {
                    logger.error("compressing a response failed", metadata: ["error": "\(error)"])
                    return failMidResponse(upstream, context: context)
                }
            }
            // The connection is reused only after a complete exchange both ways.
            let reusable = requestEnded && upstreamKeepsAlive
            pool.release(upstream, reusable: reusable)
            if !requestEnded {
                // The upstream answered before the body was sent: the rest of it is dropped.
                phase = .answeredLocally
                responseEndedLocally = true
                keepAlive = false
            }
            finishRequest(context: context, trailers: trailers)
        }
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        guard case .proxying = phase else { return }
        holdReads(!isWritable)
    }

    func upstreamClosed(error: (any Error)?) {
        guard let context, case .proxying(let upstream) = phase else { return }
        if let error { logger.debug("upstream failed", metadata: ["error": "\(error)"]) }
        // A kept-alive connection the server closed while it sat idle: nothing was answered and no body was sent,
        // so the request goes again, once, on a new connection.
        if upstream.wasReused, !responseStarted, !bodyForwarded, let upstreamHead, let server {
            pending = requestEnded ? [.end(nil)] : []
            return connect(to: server, first: .head(upstreamHead), fresh: true)
        }
        if !responseStarted { recordServerFailure() }
        if !responseStarted, retry(afterNetworkError: true, status: nil, context: context) { return }
        if responseStarted {
            // Part of the response is out: the client can only learn of the failure by the connection closing.
            phase = .idle
            context.close(promise: nil)
        } else {
            holdReads(false)
            answer(.badGateway, body: "Bad Gateway\n", context: context)
        }
    }
}

@available(*, unavailable)
extension ProxyHandler: Sendable {}
