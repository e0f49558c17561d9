import NIOCore

/// `transport.respondingTimeouts` of an HTTP/1.1 connection, as Go's server keeps them for Traefik: `idleTimeout`
/// while it waits for the next request (180 s), `readTimeout` from the request's first byte until its last one
/// (60 s: slow headers and slow bodies alike), `writeTimeout` from a request's head until its response has been
/// written (none by default). `RequestClock.Watcher` sits before the HTTP parser and reports bytes; the proxy
/// handler reports when a head and a whole request have been read and when the connection waits again.
final class RequestClock {
    enum State { case waiting, reading, busy }

    private let idleTimeout: TimeAmount?
    private let readTimeout: TimeAmount?
    private let writeTimeout: TimeAmount?
    private var state = State.waiting
    private var timer: Scheduled<Void>?
    private var writeTimer: Scheduled<Void>?
    /// Called on the loop when a timeout ends the wait: `true` for the read timeout (a request is half read).
    var onTimeout: ((Bool) -> Void)?
    /// Called on the loop when a response was not written within `writeTimeout` of its request's head.
    var onWriteTimeout: (() -> Void)?

    init(idleTimeout: TimeAmount?, readTimeout: TimeAmount?, writeTimeout: TimeAmount? = nil) {
        self.idleTimeout = idleTimeout
        self.readTimeout = readTimeout
        self.writeTimeout = writeTimeout
    }

    var isActive: Bool { idleTimeout != nil || readTimeout != nil || writeTimeout != nil }

    /// The connection waits for a request (it opened, or an exchange ended with nothing else received).
    func waiting(on loop: any EventLoop) {
        state = .waiting
        writeTimer?.cancel()
        writeTimer = nil
        arm(idleTimeout, reading: false, on: loop)
    }

    /// A request's head has been read: its response must be written within `writeTimeout`.
    func headRead(on loop: any EventLoop) {
        guard let writeTimeout, writeTimeout.nanoseconds > 0 else { return }
        writeTimer?.cancel()
        writeTimer = loop.assumeIsolated().scheduleTask(in: writeTimeout) { [weak self] in
            guard let self else { return }
            self.writeTimer = nil
            self.onWriteTimeout?()
        }
    }

    /// Bytes came from the client.
    func bytesArrived(on loop: any EventLoop) {
        guard state == .waiting else { return }
        state = .reading
        arm(readTimeout, reading: true, on: loop)
    }

    /// The request has been read whole: no timer until its response ends.
    func requestRead() {
        state = .busy
        timer?.cancel()
        timer = nil
    }

    func stop() {
        timer?.cancel()
        timer = nil
        writeTimer?.cancel()
        writeTimer = nil
        onTimeout = nil
        onWriteTimeout = nil
    }

    private func arm(_ timeout: TimeAmount?, reading: Bool, on loop: any EventLoop) {
        timer?.cancel()
        timer = nil
        guard let timeout, timeout.nanoseconds > 0 else { return }
        timer = loop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            guard let self else { return }
            self.timer = nil
            self.onTimeout?(reading)
        }
    }

    /// Before the HTTP parser: every read is a sign of life of the request being read.
    final class Watcher: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        let clock: RequestClock

        init(_ clock: RequestClock) {
            self.clock = clock
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            clock.bytesArrived(on: context.eventLoop)
            context.fireChannelRead(data)
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            clock.stop()
        }
    }
}

@available(*, unavailable)
extension RequestClock: Sendable {}

@available(*, unavailable)
extension RequestClock.Watcher: Sendable {}
