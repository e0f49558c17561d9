import NIOCore
import NIOHTTP1
import SwitchyardRouting
import SwitchyardUpstream

/// One copy of a request sent to a mirror. Its answer is read and thrown away; it never holds up the main request:
/// parts that cannot be written at once (the mirror's connection is not writable, or it is still connecting with
/// more than `maximumPending` bytes waiting) end the copy.
final class MirrorExchange: UpstreamConnectionDelegate {
    static let maximumPending = 1 << 20
    /// How long a copy may take before it is dropped.
    static let timeout = TimeAmount.seconds(30)

    private let pool: UpstreamConnectionPool
    private let mirrorBody: Bool
    private let maxBodySize: Int64
    private var connection: UpstreamConnection?
    private var pending: [HTTPClientRequestPart] = []
    private var pendingBytes = 0
    private var bodyBytes: Int64 = 0
    private var requestEnded = false
    private var abandoned = false
    /// The exchange keeps itself alive until its answer is in or it is dropped (the connection holds it only while
    /// connected).
    private var selfReference: MirrorExchange?
    private var timeoutTask: Scheduled<Void>?

    /// The copy is over (answered or dropped): let go of everything.
    private func finish() {
        abandoned = true
        timeoutTask?.cancel()
        timeoutTask = nil
        selfReference = nil
    }

    init?(mirror: MirroringServices.Mirror, head: HTTPRequestHead, clientIP: String, scheme: String, hostname: String,
          pool: UpstreamConnectionPool, client: [UInt8])
    {
        guard mirror.draws(), case .loadBalancer(let balancer)? = mirror.target.resolved(client: client),
            let server = balancer.nextServer()
        else { return nil }
        if let length = head.headers.first(name: "content-length").flatMap(Int64.init), mirror.mirrorBody,
            mirror.maxBodySize >= 0, length > mirror.maxBodySize
        {
            return nil
        }
        self.pool = pool
        self.mirrorBody = mirror.mirrorBody
        self.maxBodySize = mirror.maxBodySize
        var copy = head
        if !mirror.mirrorBody {
            copy.headers.remove(name: "content-length")
            copy.headers.remove(name: "transfer-encoding")
        }
        let upstreamHead = ForwardedRequest.make(
            from: copy, server: server, passHostHeader: balancer.passHostHeader, clientIP: clientIP, scheme: scheme,
            proxyHostname: hostname)
        pending = [.head(upstreamHead)]
        selfReference = self
        timeoutTask = pool.eventLoop.assumeIsolated().scheduleTask(in: Self.timeout) { [weak self] in self?.abandon() }
        pool.acquire(server).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let connection): self.connected(connection)
            case .failure: self.abandon()
            }
        }
    }

    private func connected(_ connection: UpstreamConnection) {
        guard !abandoned else { return pool.release(connection, reusable: false) }
        self.connection = connection
        connection.delegate = self
        for part in pending { connection.write(part) }
        pending.removeAll()
        connection.flush()
    }

    /// A part of the client's request; copied while the mirror keeps up.
    func send(_ part: HTTPClientRequestPart) {
        guard !abandoned else { return }
        switch part {
        case .head: return
        case .body(let data):
            guard mirrorBody else { return }
            bodyBytes += Int64(data.readableBytes)
            if maxBodySize >= 0 && bodyBytes > maxBodySize { return abandon() }
        case .end:
            requestEnded = true
        }
        if let connection {
            guard connection.isWritable else { return abandon() }
            connection.writeAndFlush(part)
        } else {
            if case .body(let data) = part { pendingBytes += data.readableBytes }
            guard pendingBytes <= Self.maximumPending else { return abandon() }
            pending.append(part)
        }
    }

    private func abandon() {
        abandoned = true
        pending.removeAll()
        connection?.close()
        connection = nil
        finish()
    }

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        guard case .end = part, let connection else { return }
        self.connection = nil
        pool.release(connection, reusable: requestEnded)
        finish()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {}

    func upstreamClosed(error: (any Error)?) {
        abandoned = true
        connection = nil
        finish()
    }
}

@available(*, unavailable)
extension MirrorExchange: Sendable {}
