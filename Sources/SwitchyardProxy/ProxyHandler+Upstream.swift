import Logging
import NIOCore
import NIOHTTP1
import SwitchyardMiddleware
import SwitchyardRouting
import SwitchyardUpstream

extension ProxyHandler: UpstreamConnectionDelegate {
    func upstreamReceived(_ part: HTTPClientResponsePart) {
        guard let context, let request, case .proxying(let upstream) = phase else { return }
        switch part {
        case .head(let head):
            if (100..<200).contains(head.status.code) && head.status != .switchingProtocols {
                return  // informational answers are for the proxy
            }
            if let fallback = statusFallback, fallback.policy.matches(Int(head.status.code)),
                failOverToFallback(fallback, context: context)
            {
                upstream.delegate = nil
                upstream.close()
                return
            }
            if let scope,
                scope.retry?.retries(status: Int(head.status.code)) == true || scope.buffering?.retries(
                    afterNetworkError: false, status: Int(head.status.code), attempts: attempt) == true,
                retry(afterNetworkError: false, status: Int(head.status.code), context: context)
            {
                upstream.delegate = nil
                upstream.close()
                return
            }
            if errorPageStatus == nil, let policy = scope?.errorPages as? ErrorPagesPolicy,
                policy.matches(Int(head.status.code)), fetchErrorPage(policy, status: Int(head.status.code), context: context)
            {
                upstream.delegate = nil
                upstream.close()
                return
            }
            let serverHead = head
            var head = head
            originStatus = Int(head.status.code)
            if let errorPageStatus { head.status = HTTPResponseStatus(statusCode: errorPageStatus) }
            if head.headers.contains(name: "grpc-status") {
                // A gRPC "trailers-only" answer: the status goes in trailers, where clients look for it once the
                // response has a body part of its own.
                var trailers = HTTPHeaders()
                for name in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
                    for value in head.headers[canonicalForm: name] { trailers.add(name: name, value: String(value)) }
                    head.headers.remove(name: name)
                }
                grpcTrailers = trailers
            }
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
                send(.head(response), context: context)
                send(.end(nil), context: context); flushClient(context)
                // The tunnel starts after the 101's end, so no HTTP part reaches it.
                switchingProtocols = true
                return
            }
            if isUpgradeRequest { keepAlive = false }
            let hasLength = head.headers.contains(name: "content-length")
            if request.version == .http1_0 && !hasLength && request.method != .HEAD { keepAlive = false }
            var response = ForwardedRequest.clientResponse(from: head, version: request.version, keepAlive: keepAlive)
            for cookie in setCookies { response.headers.add(name: "Set-Cookie", value: cookie) }
            startCompressionIfAsked(&response, request: request)
            if scope != nil, let route, let middlewareContext {
                for middleware in route.middlewares.reversed() {
                    middleware.handleResponse(&response, request: request, context: middlewareContext)
                }
            }
            scope?.responseStatus = Int(response.status.code)
            sentStatus = Int(response.status.code)
            // Kept for the observers only: a second reference would make the encoder copy the headers to frame them.
            if !settings.observers.isEmpty { sentHeaders = response.headers }
            if scope?.buffering?.holdsResponse == true {
                heldResponse = [.head(response)]
                heldBytes = 0
            } else {
                if !passedAsSent(response, serverHead: serverHead, upstream: upstream) {
                    send(.head(response), context: context)
                }
                responseUnflushed = true
            }
        case .body(var buffer):
            if let compressor {
                do {
                    buffer = try compressor.encode(&buffer, allocator: context.channel.allocator)
                } catch {
                    logger.error("compressing a response failed", metadata: ["error": "\(error)"])
                    return failMidResponse(upstream, context: context)
                }
            }
            responseBytes &+= buffer.readableBytes
            if heldResponse != nil {
                return hold(buffer, upstream: upstream, context: context)
            }
            send(.body(.byteBuffer(buffer)), context: context)
            responseUnflushed = true
            if !clientWritable {
                // Pause first: the flush can make the channel writable again, which resumes reading.
                upstream.pauseReading()
                flushClient(context)
            }
        case .end(let trailers):
            if switchingProtocols { return switchToTunnel(upstream: upstream, context: context) }
            if let compressor {
                do {
                    let last = try compressor.finish(allocator: context.channel.allocator)
                    self.compressor = nil
                    if heldResponse != nil {
                        heldResponse?.append(.body(.byteBuffer(last)))
                    } else {
                        send(.body(.byteBuffer(last)), context: context)
                    }
                } catch {
                    logger.error("compressing a response failed", metadata: ["error": "\(error)"])
                    return failMidResponse(upstream, context: context)
                }
            }
            releaseHeldResponse(context: context)
            // The connection is reused only after a complete exchange both ways.
            let reusable = requestEnded && upstreamKeepsAlive
            pool.release(upstream, reusable: reusable)
            if !requestEnded {
                // The upstream answered before the body was sent: the rest of it is dropped.
                phase = .answeredLocally
                responseEndedLocally = true
                keepAlive = false
            }
            var trailers = trailers
            if let moved = grpcTrailers {
                grpcTrailers = nil
                var merged = trailers ?? HTTPHeaders()
                merged.add(contentsOf: moved)
                trailers = merged
            }
            if scope?.grpcWeb != nil {
                // gRPC-Web: the trailers travel as the body's last frame.
                var frame = context.channel.allocator.buffer(capacity: 64)
                frame.writeBytes(GrpcWebExchange.trailerFrame(trailers ?? HTTPHeaders()))
                send(.body(.byteBuffer(frame)), context: context)
                trailers = nil
            }
            finishRequest(context: context, trailers: trailers)
        }
    }

    /// The server's own bytes of the head go to the client when nothing changed the head on the way and its framing
    /// stays (one serialisation fewer per response).
    func passedAsSent(_ response: HTTPResponseHead, serverHead: HTTPResponseHead, upstream: UpstreamConnection) -> Bool {
        guard let codec, let bytes = upstream.headBytes, response.status == serverHead.status,
            response.version == serverHead.version, response.headers.count == serverHead.headers.count,
            zip(response.headers, serverHead.headers).allSatisfy({ $0.name == $1.name && $0.value == $1.value })
        else { return false }
        return codec.passHead(response, bytes: bytes)
    }

    /// What one read from the server made goes out now: a streamed response (server-sent events, long polls,
    /// progressive pages) reaches the client as the server sends it, with one flush per read rather than per part.
    func upstreamReadComplete() {
        guard responseUnflushed, let context else { return }
        responseUnflushed = false
        flushClient(context)
    }

    /// Keeps a body part of a held response (`buffering`). Over `maxResponseBodyBytes` the client gets a 500
    /// instead; a response with no limit that grows past what is held in memory streams from there on.
    func hold(_ buffer: ByteBuffer, upstream: UpstreamConnection, context: ChannelHandlerContext) {
        heldBytes += Int64(buffer.readableBytes)
        heldResponse?.append(.body(.byteBuffer(buffer)))
        let limit = scope?.buffering?.maxResponseBytes ?? 0
        if limit > 0, heldBytes > limit {
            logger.debug("response over maxResponseBodyBytes", metadata: ["router": "\(route?.name ?? "")", "limit": "\(limit)"])
            upstream.delegate = nil
            upstream.close()
            heldResponse = nil
            compressor = nil
            keepAlive = false
            return answer(.internalServerError, body: "Internal Server Error\n", context: context)
        }
        if limit == 0, heldBytes > Self.maximumHeldResponse {
            releaseHeldResponse(context: context)
        }
    }

    /// The largest response held in memory when `buffering` sets no limit.
    static let maximumHeldResponse: Int64 = 64 << 20

    /// Sends what was held of the response; what comes after streams.
    func releaseHeldResponse(context: ChannelHandlerContext) {
        guard let held = heldResponse else { return }
        heldResponse = nil
        for part in held { send(part, context: context) }
        responseUnflushed = true
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
        if heldResponse != nil {
            // Nothing of a held response went out: the failure can still be answered (or the request retried).
            heldResponse = nil
            compressor = nil
            responseStarted = false
        }
        if upstream.wasReused, !responseStarted, !bodyForwarded || replay != nil, let upstreamHead, let server {
            pending = replay ?? (requestEnded ? [.end(nil)] : [])
            return connect(to: server, first: .head(upstreamHead), fresh: true)
        }
        if !responseStarted { recordServerFailure() }
        if !responseStarted, failOverToAnotherServer(afterSending: true) { return }
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
