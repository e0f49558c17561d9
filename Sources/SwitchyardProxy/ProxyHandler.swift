import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import SwitchyardConfig
import SwitchyardHTTP1
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
    enum Phase {
        case idle
        /// The body is read whole before the middlewares run (they read it); its parts wait in `pending`.
        case readingBody(HTTPRequestHead, Route)
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

    let settings: EntryPointSettings
    let slot: RoutingTableStore.Slot
    let pool: UpstreamConnectionPool
    let logger: Logger

    var context: ChannelHandlerContext?
    var clientAddress: [UInt8] = []
    var clientIP = ""
    /// The client is one whose X-Forwarded-* headers the entry point trusts.
    var forwardedTrusted = false
    /// The client's TLS certificate (DER), once looked up: `.some(nil)` when it presented none.
    var clientCertificate: [UInt8]??

    var phase = Phase.idle
    var request: HTTPRequestHead?
    var route: Route?
    var middlewareContext: MiddlewareContext?
    /// The middlewares' scope of the exchange (`middlewareContext.scope`), kept apart: testing an optional reference
    /// is one comparison, where reaching into the optional context copies it.
    var scope: RequestScope?
    var pending: [HTTPClientRequestPart] = []
    var requestEnded = false
    var responseStarted = false
    var keepAlive = true
    var isUpgradeRequest = false
    var upstreamKeepsAlive = true
    var switchingProtocols = false
    /// What went upstream, kept to send again once when a reused connection turns out closed.
    var upstreamHead: HTTPRequestHead?
    var server: UpstreamServer?
    var bodyForwarded = false
    /// The request body kept to send again (`retry.maxRequestBodyBytes`, or read whole first), with its end when
    /// it came; nil when it cannot be sent again.
    var replay: [HTTPClientRequestPart]?
    var replayBytes: Int64 = 0
    /// Body parts still to copy into `replay` up to this many bytes (0: not copying).
    var replayLimit: Int64 = 0
    /// Bytes of the body read first (`readingBody`), and the most read before the middlewares are told it is
    /// too large.
    var bodyReadBytes: Int64 = 0
    var bodyReadLimit: Int64 = 0
    /// `100 Continue` already went to the client.
    var continueSent = false
    /// The response held whole before it goes to the client (`buffering`); nil when it streams.
    var heldResponse: [HTTPServerResponsePart]?
    var heldBytes: Int64 = 0
    /// When the first try went (for `retry.timeout`).
    var firstTry: NIODeadline?
    /// Where the request goes instead when the main service of a `failover` answers a status its `errors` name.
    var statusFallback: StatusFallback?
    /// The sticky cookies to send with this response, when the client is not yet stuck to its server (or to the
    /// child of a weighted service).
    var setCookies: [String] = []
    /// Tells passive health checking that the current server failed this request.
    func recordServerFailure() {
        scope?.upstreamFailed = true
        guard let balancer, let health = balancer.health, health.passive != nil, let server,
            let index = balancer.servers.firstIndex(of: server), health.recordFailure(index)
        else { return }
        logger.warning("passive health check: server ejected", metadata: ["service": "\(balancer.name)", "server": "\(server.url)"])
    }

    /// The writer of the streamed internal response in progress (Server-Sent Events).
    var streamWriter: InternalStreamWriter?

    /// Compresses the response body when the `compress` middleware asked and the response qualifies.
    var compressor: (any BodyEncoder)?
    /// Response parts written to the client since the last flush (flushed when the server's read completes).
    var responseUnflushed = false

    /// Copies of this request going to mirrors (`mirroring` services).
    var mirrors: [MirrorExchange] = []

    /// The status to answer with while an error page (the `errors` middleware) replaces the server's answer.
    var errorPageStatus: Int?

    /// The balancer that chose the server, and which try this is (for `retry`).
    var balancer: LoadBalancer?
    var attempt = 1
    /// The status of a gRPC trailers-only answer, sent as trailers when the response ends.
    var grpcTrailers: HTTPHeaders?
    /// Servers of this request that could not be connected to.
    var refusedBy: [UpstreamServer] = []

    /// The server this exchange counts against (p2c), released once when the exchange ends.
    var inFlight: (load: ServerLoad, index: Int)?

    /// Ends the exchange's accounting, once: the server's in-flight count (p2c) and the middlewares' completions.
    func releaseInFlight() {
        if let (load, index) = inFlight { load.ended(index) }
        inFlight = nil
        scope?.complete()
    }

    /// When the exchange began (uptime; 0 when nothing counts it), and what went each way, for the traffic
    /// counters and the observers.
    var exchangeStart: UInt64 = 0
    var exchangeStartWall = 0.0
    var sentStatus = 0
    var sentHeaders = HTTPHeaders()
    var originStatus = 0
    var requestBytes = 0
    var responseBytes = 0

    /// Counts the exchange that just ended, once: in its router's and service's traffic counters, and for the entry
    /// point's observers.
    func recordExchange(status: Int) {
        guard exchangeStart != 0 else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        let elapsed = Int64(truncatingIfNeeded: now &- exchangeStart)
        exchangeStart = 0
        if let route {
            route.traffic?.record(status: status, nanoseconds: elapsed, endedAt: Int64(truncatingIfNeeded: now))
            route.serviceTraffic?.record(status: status, nanoseconds: elapsed, endedAt: Int64(truncatingIfNeeded: now))
        }
        guard !settings.observers.isEmpty, let request else { return }
        let record = ExchangeRecord(
            entryPoint: settings.name, router: route?.name, service: route?.serviceName, serverURL: server?.url,
            request: request, protocol: ExchangeRecord.protocolName(of: request), scheme: settings.scheme,
            clientIP: clientIP, clientPort: context?.channel.remoteAddress?.port ?? 0, status: status,
            originStatus: originStatus, responseHeaders: sentHeaders, duration: elapsed, started: exchangeStartWall,
            requestBytes: requestBytes, responseBytes: responseBytes, retries: attempt - 1, tableVersion: slot.table.version,
            username: scope?.username)
        for observer in settings.observers { observer.exchangeEnded(record) }
    }

    var readsHeld = false
    /// From a request's head until its response has ended.
    var inExchange = false
    /// Parts of pipelined requests waiting for the current exchange to end.
    var queued = CircularBuffer<HTTPServerRequestPart>()
    var draining = false
    var quiescing = false
    var heldRead = false
    var responseTimeout: Scheduled<Void>?
    /// Bumped for every request so late callbacks of an earlier request are ignored.
    var generation = 0

    /// The HTTP/1 codec right before this handler, linked both ways so a request or response part is a call rather
    /// than a pipeline trip in a type-erased box (nil on an HTTP/2 stream). The link goes when either leaves.
    var codec: HTTP1ServerCodec?

    /// An HTTP/2 stream's frames as request and response parts (nil on an HTTP/1 connection).
    var stream: HTTP2StreamCodec?

    /// Writes a response part: straight to the HTTP/1 codec, as the HTTP/2 stream's frames, or down the pipeline.
    func send(_ part: HTTPServerResponsePart, promise: EventLoopPromise<Void>? = nil, context: ChannelHandlerContext) {
        if let codec {
            codec.send(part, promise: promise)
        } else if stream != nil {
            stream!.write(part, promise: promise, context: context)
        } else {
            context.write(wrapOutboundOut(part), promise: promise)
        }
    }

    /// Idle and read timeouts of an HTTP/1.1 connection (nil for HTTP/2 streams and without limits).
    let clock: RequestClock?
    /// The client, when the connection already knows it (an HTTP/2 stream's connection).
    let client: ClientIdentity?

    init(
        settings: EntryPointSettings, slot: RoutingTableStore.Slot, pool: UpstreamConnectionPool, logger: Logger,
        clock: RequestClock? = nil, client: ClientIdentity? = nil, http2Stream: Bool = false
    ) {
        self.stream = http2Stream ? HTTP2StreamCodec() : nil
        self.settings = settings
        self.clock = clock
        self.client = client
        self.slot = slot
        self.pool = pool
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        clientWritable = context.channel.isWritable
        if let clock {
            // Held strongly until `handlerRemoved` stops the clock: a weak reference would put this handler's
            // reference counts in a side table, slower on every retain and release.
            clock.onTimeout = { reading in self.timedOut(reading: reading) }
            clock.onWriteTimeout = {
                guard let context = self.context else { return }
                self.logger.debug("write timeout", metadata: ["router": "\(self.route?.name ?? "")"])
                context.close(promise: nil)
            }
            clock.waiting(on: context.eventLoop)
        }
        if let identity = client ?? ClientIdentity(context.channel, settings: settings) {
            (clientAddress, clientIP, forwardedTrusted) = (identity.address, identity.ip, identity.forwardedTrusted)
        }
    }

    /// The certificate the client presented, read once per connection from its TLS handler (the parent channel's,
    /// for an HTTP/2 stream).
    func peerCertificate(_ context: ChannelHandlerContext) -> [UInt8]? {
        if let known = clientCertificate { return known }
        var handler = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
        if handler == nil, let parent = context.channel.parent, parent.eventLoop === context.eventLoop {
            // an HTTP/2 stream: TLS is its connection's (a connection's own parent, the listener, has none)
            handler = try? parent.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
        }
        let certificate = handler?.peerCertificate
        let der = certificate.flatMap { try? $0.toDERBytes() }
        clientCertificate = .some(der)
        return der
    }

    /// The request as the server gets it (the X-Forwarded-* headers set by the entry point's trust in the client).
    func forwarded(_ head: HTTPRequestHead, to server: UpstreamServer, by balancer: LoadBalancer) -> HTTPRequestHead {
        ForwardedRequest.make(
            from: head, server: server, passHostHeader: balancer.passHostHeader, clientIP: clientIP,
            scheme: settings.scheme, proxyHostname: settings.hostname, trusted: forwardedTrusted)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        codec?.proxy = nil
        codec = nil
        clock?.stop()
    }

    /// A connection that stayed idle past `idleTimeout` is closed; a request not read whole within `readTimeout`
    /// gets 408 (when nothing of a response went out yet) and the connection is closed.
    func timedOut(reading: Bool) {
        guard let context else { return }
        logger.debug(reading ? "request read timeout" : "idle timeout")
        if reading, !responseStarted, !responseEndedLocally {
            keepAlive = false
            if inExchange { releaseInFlight() }
            generation += 1
            if case .proxying(let upstream) = phase {
                upstream.delegate = nil
                upstream.close()
            }
            phase = .answeredLocally
            let head = HTTPResponseHead(
                version: .http1_1, status: .requestTimeout,
                headers: ["Connection": "close", "Content-Length": "0"])
            send(.head(head), context: context)
            let written = context.eventLoop.makePromise(of: Void.self)
            send(.end(nil), promise: written, context: context)
            flushClient(context)
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        context.close(promise: nil)
    }

    /// A request the parser refused is answered with the status its error names (400; 414 and 431 for a request
    /// line or header section too large) unless a response is under way; that, and any other error of
    /// the client's connection (TLS, a reset), ends the connection. (NIO's HTTPServerProtocolErrorHandler does the
    /// same as a handler of its own, which every response part then passes through: three pipeline hops and dynamic
    /// casts per response.)
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("client connection error", metadata: ["error": "\(error)"])
        let refused = (error as? HTTP1Malformed)?.status ?? (error is HTTPParserError ? .badRequest : nil)
        if inExchange {
            // The exchange ends here: no answer of the server's may follow the refusal while the close is delayed
            // (TLS waits for the client's close_notify), nor a connection still being made send the request.
            generation += 1
            if case .proxying(let upstream) = phase {
                upstream.delegate = nil
                upstream.close()
            }
            phase = .answeredLocally
        }
        if let refused, !(inExchange && responseStarted), context.channel.isActive {
            let headers = HTTPHeaders([("connection", "close"), ("content-length", "0")])
            send(.head(HTTPResponseHead(version: .http1_1, status: refused, headers: headers)), context: context)
            send(.end(nil), context: context); flushClient(context)
        }
        context.close(promise: nil)
    }

    // MARK: Client → proxy

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard stream != nil else { return received(unwrapInboundIn(data), context: context) }
        let parts: (first: HTTPServerRequestPart?, second: HTTPServerRequestPart?)
        do {
            parts = try stream!.decode(HTTP2StreamReads.payload(data))
        } catch {
            return errorCaught(context: context, error: error)
        }
        if let first = parts.first { received(first, context: context) }
        if let second = parts.second { received(second, context: context) }
    }

    /// A request part: from the pipeline (an HTTP/2 stream's codec), or straight from the HTTP/1 codec before
    /// this handler.
    func received(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        inClientRead = true
        if !queued.isEmpty || (inExchange && requestEnded) {
            // A pipelined request: it waits until the response to the one before is complete. Reading goes on
            // (no epoll change per request, as a read-gating pipeline handler would cost) up to a bound.
            queued.append(part)
            return
        }
        handle(part, context: context)
    }

    func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            receivedHead(head, context: context)
        case .body(let buffer):
            bodyForwarded = true
            requestBytes &+= buffer.readableBytes
            forwardRequestPart(.body(.byteBuffer(buffer)))
        case .end(let trailers):
            requestEnded = true
            clock?.requestRead()
            forwardRequestPart(.end(trailers))
            if case .answeredLocally = phase, responseEndedLocally { finishRequest(context: context) }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readComplete(context: context)
        context.fireChannelReadComplete()
    }

    /// The client's read is over: what it sent upstream goes out. Called by the HTTP/1 codec directly.
    func readComplete(context: ChannelHandlerContext) {
        inClientRead = false
        if case .proxying(let upstream) = phase { upstream.flush() }
    }

    /// True from a part of the client's request until its read completes: what goes upstream meanwhile is flushed
    /// once, then (a request's head and its end in one read: one flush instead of three).
    var inClientRead = false

    /// Flushes the upstream connection now, or as the client's read completes.
    func flushUpstream(_ upstream: UpstreamConnection) {
        if !inClientRead { upstream.flush() }
    }

    /// Flushes the client's connection: from the HTTP/1 codec's place, or from this handler's.
    func flushClient(_ context: ChannelHandlerContext) {
        if let codec {
            codec.flush()
        } else {
            stream?.writeHeld(context: context)
            context.flush()
        }
    }

    func read(context: ChannelHandlerContext) {
        if readAllowed { context.read() } else { heldRead = true }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else { return context.fireUserInboundEventTriggered(event) }
        // Shutting down: idle connections close now, busy ones after their response; streams end now.
        quiescing = true
        keepAlive = false
        if (!inExchange && queued.isEmpty) || streamWriter != nil { context.close(promise: nil) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        clientWritable = context.channel.isWritable
        if case .proxying(let upstream) = phase {
            if clientWritable { upstream.resumeReading() } else { upstream.pauseReading() }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The client is gone: whatever the upstream is doing for it is cancelled (499, as Traefik logs it).
        if inExchange { recordExchange(status: responseStarted ? sentStatus : 499) }
        streamWriter?.close()
        streamWriter = nil
        releaseInFlight()
        generation += 1
        responseTimeout?.cancel()
        if case .proxying(let upstream) = phase {
            upstream.delegate = nil
            upstream.close()
        }
        phase = .idle
        pending.removeAll()
        inClientRead = false
        stream?.dropHeld()
        context.fireChannelInactive()
    }

    /// The client's channel takes more writes (as it was when this handler was added, then as its events tell).
    var clientWritable = true

    /// Reading stops while the upstream cannot take more, or while too many pipelined parts wait.
    var readAllowed: Bool { !readsHeld && queued.count < Self.maximumQueuedParts }
    static let maximumQueuedParts = 64

    func holdReads(_ hold: Bool) {
        readsHeld = hold
        resumeReadsIfAllowed()
    }

    func resumeReadsIfAllowed() {
        if heldRead, readAllowed, let context {
            heldRead = false
            context.read()
        }
    }

    /// Serves pipelined requests that arrived while the previous one was answered.
    func drainQueued(context: ChannelHandlerContext) {
        guard !draining else { return }
        draining = true
        defer { draining = false }
        while !queued.isEmpty && !(inExchange && requestEnded) && context.channel.isActive {
            handle(queued.removeFirst(), context: context)
        }
        resumeReadsIfAllowed()
    }

    func receivedHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        releaseInFlight()
        exchangeStart = 0
        sentStatus = 0
        originStatus = 0
        requestBytes = 0
        responseBytes = 0
        route = nil
        if !settings.observers.isEmpty {
            exchangeStart = NIODeadline.now().uptimeNanoseconds
            exchangeStartWall = WallClock.seconds()
        }
        generation += 1
        inExchange = true
        if request != nil { releaseExchange() }  // what an exchange holds is set only while it has its request
        request = head
        clock?.headRead(on: context.eventLoop)
        requestEnded = false
        responseStarted = false
        responseEndedLocally = false
        switchingProtocols = false
        errorPageStatus = nil
        compressor = nil
        responseUnflushed = false
        attempt = 1
        if !refusedBy.isEmpty { refusedBy.removeAll() }
        grpcTrailers = nil
        if !setCookies.isEmpty { setCookies.removeAll() }
        bodyForwarded = false
        replayLimit = 0
        continueSent = false
        firstTry = nil
        if !pending.isEmpty { pending.removeAll(keepingCapacity: true) }
        // An HTTP/2 stream ends with its response and the connection stays: HTTP/1's keep-alive rules are not its.
        keepAlive = (head.version.major >= 2 || head.isKeepAlive) && !quiescing
        isUpgradeRequest = ForwardedRequest.isUpgrade(head)
        if !isUpgradeRequest, head.headers.contains(name: "upgrade") {
            // An upgrade not passed on (h2c): the parser stopped at its head, so the connection carries no other.
            keepAlive = false
        }

        var head = head
        if let (status, reason) = Self.refusal(of: &head, settings: settings) {
            keepAlive = false
            logger.debug("request refused", metadata: ["status": "\(status.code)", "reason": "\(reason)"])
            return answer(status, body: reason + "\n", context: context)
        }
        request = head
        let table = slot.table
        guard let entryPoint = (settings.isTLS ? table.secureEntryPoints : table.entryPoints)[settings.name] else {
            return answer(.notFound, body: "404 page not found\n", context: context)
        }
        let routingRequest = RoutingRequest(head: head, clientAddress: clientAddress)
        guard let route = entryPoint.route(routingRequest) else {
            return answer(.notFound, body: "404 page not found\n", context: context)
        }
        self.route = route
        if route.traffic != nil && exchangeStart == 0 { exchangeStart = NIODeadline.now().uptimeNanoseconds }
        if !route.middlewares.isEmpty {
            var middlewareContext = MiddlewareContext(
                entryPoint: settings.name, router: route.name, clientAddress: clientAddress, clientIP: clientIP,
                scheme: settings.scheme, eventLoop: context.eventLoop)
            if settings.isTLS { middlewareContext.clientCertificate = peerCertificate(context) }
            self.middlewareContext = middlewareContext
            scope = middlewareContext.scope
            if let limit = route.requestBodyLimit, !isUpgradeRequest {
                return readBodyFirst(head, route: route, limit: limit, context: context)
            }
        }
        runMiddlewares(head, route: route, context: context)
    }

    /// The largest body read whole for middlewares that take any size; larger ones are refused as too large.
    static let maximumReadBody: Int64 = 64 << 20

    /// Reads the request body whole before the route's middlewares run, for those that read it (`buffering`,
    /// `forwardAuth.forwardBody`); a body over the limit (by its Content-Length, or as it arrives) is not read
    /// further, and the middlewares answer it as too large.
    func readBodyFirst(_ head: HTTPRequestHead, route: Route, limit: Int64, context: ChannelHandlerContext) {
        bodyReadLimit = limit < 0 ? Self.maximumReadBody : min(limit, Self.maximumReadBody)
        bodyReadBytes = 0
        let length = head.headers.first(name: "content-length").flatMap(Int64.init)
        if let length, length > bodyReadLimit {
            bodyTooLarge(head, route: route, context: context)
            return
        }
        if length == nil && !head.headers.contains(name: "transfer-encoding") || length == 0 {
            // No body: nothing to wait for.
            scope?.requestBody = context.channel.allocator.buffer(capacity: 0)
            return runMiddlewares(head, route: route, context: context)
        }
        if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
            continueSent = true
            send(.head(HTTPResponseHead(version: head.version, status: .continue)), context: context); flushClient(context)
        }
        phase = .readingBody(head, route)
        holdReads(false)
    }

    /// A body read first has come whole: the middlewares read it, and it is kept to send again.
    func bodyRead(_ head: HTTPRequestHead, route: Route, context: ChannelHandlerContext) {
        var body = context.channel.allocator.buffer(capacity: Int(bodyReadBytes))
        for case .body(.byteBuffer(let part)) in pending { body.writeImmutableBuffer(part) }
        scope?.requestBody = body
        replay = pending
        replayBytes = bodyReadBytes
        phase = .idle
        runMiddlewares(head, route: route, context: context)
    }

    /// The body is larger than the route's middlewares read: they answer (413, 401), and the connection closes
    /// after, as the rest of the body is not read.
    func bodyTooLarge(_ head: HTTPRequestHead, route: Route, context: ChannelHandlerContext) {
        keepAlive = false
        pending.removeAll()
        scope?.requestBodyTooLarge = true
        phase = .idle
        runMiddlewares(head, route: route, context: context)
    }

    /// Runs the route's middlewares, then sends the request to its service (unless one answered).
    func runMiddlewares(_ head: HTTPRequestHead, route: Route, context: ChannelHandlerContext) {
        var head = head
        if let middlewareContext {
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
    func awaitDecision(
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
    func dispatch(_ head: HTTPRequestHead, route: Route, context: ChannelHandlerContext) {
        var mirrors: [MirroringServices.Mirror] = []
        guard let service = route.service.resolved(
            client: clientAddress, headers: head.headers, mirrors: &mirrors, setCookies: &setCookies,
            statusFallback: &statusFallback)
        else {
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
                    if let stream = response.stream {
                        self.startStream(response, stream, context: context)
                    } else {
                        self.writeLocalResponse(response.status, headers: response.headers, body: response.body, context: context)
                    }
                case .failure:
                    self.answer(.internalServerError, body: "Internal Server Error\n", context: context)
                }
            }
        case .loadBalancer(let balancer):
            let cookies = balancer.sticky == nil ? [] : head.headers["cookie"]
            guard let (server, setCookie) = balancer.server(cookieHeaders: cookies) else {
                return answer(.serviceUnavailable, body: "no available server\n", context: context)
            }
            if let setCookie { setCookies.append(setCookie) }
            self.balancer = balancer
            self.server = server
            if let load = balancer.load, let index = balancer.servers.firstIndex(of: server) {
                load.began(index)
                inFlight = (load, index)
            }
            if let policy = scope?.retry {
                if policy.timeout > 0 { firstTry = .now() }
                if policy.replayBodyBytes > 0 { keepBodyForReplay(upTo: policy.replayBodyBytes) }
            }
            if let statusFallback {
                keepBodyForReplay(upTo: statusFallback.policy.maxBodyBytes < 0 ? Self.maximumReplayBytes : statusFallback.policy.maxBodyBytes)
            }
            if !continueSent, !requestEnded,
                head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" })
            {
                // Ask for the body now; the upstream request goes without Expect.
                send(.head(HTTPResponseHead(version: head.version, status: .continue)), context: context); flushClient(context)
            }
            let upstreamHead = forwarded(head, to: server, by: balancer)
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

    func connect(to server: UpstreamServer, first: HTTPClientRequestPart, fresh: Bool) {
        phase = .connecting
        let generation = self.generation
        if !fresh, let idle = pool.takeIdle(server) {
            return connected(.success(idle), generation: generation, first: first)
        }
        pending.insert(first, at: 0)
        holdReads(true)
        pool.acquire(server, fresh: fresh).assumeIsolated().whenComplete { result in
            self.connected(result, generation: generation)
        }
    }

    /// `first` is the request's head when it did not wait in `pending` (an idle connection was there at once).
    func connected(_ result: Result<UpstreamConnection, any Error>, generation: Int, first: HTTPClientRequestPart? = nil) {
        guard generation == self.generation, case .connecting = phase, let context else {
            if case .success(let connection) = result { pool.release(connection, reusable: false) }
            return
        }
        switch result {
        case .failure(let error):
            logger.debug("upstream connection failed", metadata: ["error": "\(error)", "router": "\(route?.name ?? "")"])
            recordServerFailure()
            if failOverToAnotherServer() { return }
            if retry(afterNetworkError: true, status: nil, context: context) { return }
            holdReads(false)
            var timedOut = false
            if case ChannelError.connectTimeout = error { timedOut = true }
            if answerWithErrorPage(timedOut ? 504 : 502, context: context) { return }
            answer(timedOut ? .gatewayTimeout : .badGateway, body: timedOut ? "Gateway Timeout\n" : "Bad Gateway\n", context: context)
        case .success(let upstream):
            upstream.delegate = self
            phase = .proxying(upstream)
            if let first { upstream.write(first) }
            for part in pending { upstream.write(part) }
            // The capacity stays for the next request's head (one allocation less per request).
            pending.removeAll(keepingCapacity: true)
            flushUpstream(upstream)
            let forwarding = server?.transport.forwarding
            if let timeout = forwarding == nil ? settings.responseHeaderTimeout : forwarding?.responseHeaderTimeout {
                responseTimeout = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                    self.responseHeaderTimedOut(generation: generation)
                }
            }
            holdReads(!upstream.isWritable)
        }
    }

    func responseHeaderTimedOut(generation: Int) {
        guard generation == self.generation, !responseStarted, case .proxying(let upstream) = phase, let context else {
            return
        }
        upstream.delegate = nil
        upstream.close()
        recordServerFailure()
        if answerWithErrorPage(504, context: context) { return }
        answer(.gatewayTimeout, body: "Gateway Timeout\n", context: context)
    }

    func forwardRequestPart(_ part: HTTPClientRequestPart) {
        for mirror in mirrors { mirror.send(part) }
        // An error page is fetched with a request of its own; the client's body goes nowhere.
        if errorPageStatus != nil { return }
        if replayLimit > 0 { keepForReplay(part) }
        switch phase {
        case .connecting, .deciding:
            pending.append(part)
        case .proxying(let upstream):
            upstream.write(part)
            if case .end = part { flushUpstream(upstream) }
        case .readingBody(let head, let route):
            pending.append(part)
            switch part {
            case .body(.byteBuffer(let buffer)):
                bodyReadBytes += Int64(buffer.readableBytes)
                if bodyReadBytes > bodyReadLimit, let context { bodyTooLarge(head, route: route, context: context) }
            case .end:
                if let context { bodyRead(head, route: route, context: context) }
            default:
                break
            }
        case .idle, .answeredLocally, .upgraded:
            break
        }
    }

    /// The most body kept to send again when a setting asks for any size.
    static let maximumReplayBytes: Int64 = 16 << 20

    /// Starts copying the body as it goes (from what is already here), so the request can be sent again; a larger
    /// limit than one set before wins.
    func keepBodyForReplay(upTo limit: Int64) {
        if replay == nil {
            // Called before the request goes out: whatever came of the body waits in `pending`.
            replay = []
            replayBytes = 0
            replayLimit = limit
            for part in pending { keepForReplay(part) }
        } else if replayLimit > 0 {
            replayLimit = max(replayLimit, limit)
        }
    }

    /// Copies a body part into `replay` while the body stays within `replayLimit`; past it the request cannot be
    /// sent again.
    func keepForReplay(_ part: HTTPClientRequestPart) {
        guard replay != nil else { return }
        if case .body(.byteBuffer(let buffer)) = part {
            replayBytes += Int64(buffer.readableBytes)
            guard replayBytes <= replayLimit else {
                replay = nil
                replayLimit = 0
                return
            }
        }
        replay?.append(part)
    }

    // MARK: Local answers

    var responseEndedLocally = false

    func answer(
        _ status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: String, context: ChannelHandlerContext
    ) {
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        var headers = headers
        if !headers.contains(name: "content-type") { headers.add(name: "content-type", value: "text/plain; charset=utf-8") }
        writeLocalResponse(status, headers: headers, body: buffer, context: context)
    }

    func writeLocalResponse(
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
        scope?.responseStatus = Int(status.code)
        sentStatus = Int(status.code)
        if !settings.observers.isEmpty { sentHeaders = headers }
        send(.head(HTTPResponseHead(version: request.version, status: status, headers: headers)), context: context)
        if request.method != .HEAD {
            responseBytes &+= body.readableBytes
            send(.body(.byteBuffer(body)), context: context)
        }
        responseEndedLocally = true
        if requestEnded {
            finishRequest(context: context)
        } else {
            // The client has its whole answer once this flush is out: it is counted now, not when its request ends.
            recordExchange(status: sentStatus)
            flushClient(context)
        }
    }

    /// Ends the response to the current request; closes the connection unless it stays alive.
    func finishRequest(context: ChannelHandlerContext, trailers: HTTPHeaders? = nil) {
        recordExchange(status: sentStatus)
        releaseInFlight()
        responseTimeout?.cancel()
        responseTimeout = nil
        phase = .idle
        route = nil
        holdReads(false)
        inExchange = false
        let close = !keepAlive
        let promise: EventLoopPromise<Void>? = close ? context.eventLoop.makePromise() : nil
        responseUnflushed = false
        send(.end(trailers), promise: promise, context: context); flushClient(context)
        releaseExchange()
        if let promise {
            queued.removeAll()
            promise.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        if let clock {
            // A pipelined request already here is being read; else the connection waits for the next one.
            clock.waiting(on: context.eventLoop)
            if !queued.isEmpty { clock.bytesArrived(on: context.eventLoop) }
        }
        drainQueued(context: context)
    }

    /// Lets go of what an exchange holds: when its response has ended, so an idle keep-alive connection keeps
    /// nothing of it (10,000 idle connections), and again as the next request starts.
    func releaseExchange() {
        request = nil
        upstreamHead = nil
        middlewareContext = nil
        scope = nil
        server = nil
        balancer = nil
        sentHeaders = HTTPHeaders()
        if !mirrors.isEmpty { mirrors = [] }
        heldResponse = nil
        replay = nil
        statusFallback = nil
    }

    // MARK: Upgrades

    func switchToTunnel(upstream: UpstreamConnection, context: ChannelHandlerContext) {
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
            // The codec goes last: what the client sent after its request goes on to the tunnel.
            if let codec = try? clientPipeline.handler(type: HTTP1ServerCodec.self) { clientPipeline.removeHandler(codec, promise: nil) }
        } catch {
            logger.debug("switching protocols failed", metadata: ["error": "\(error)"])
            upstream.close()
            client.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension ProxyHandler: Sendable {}
