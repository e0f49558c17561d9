import NIOCore

/// `transport.respondingTimeouts` of an HTTP/1.1 connection, as Go's server keeps them for Traefik: `idleTimeout`
/// while it waits for the next request (180 s), `readTimeout` from the request's first byte until its last one
/// (60 s: slow headers and slow bodies alike). `RequestClock.Watcher` sits before the HTTP parser and reports
/// bytes; the proxy handler reports when a request has been read and when the connection waits again.
final class RequestClock {
    enum State { case waiting, reading, busy }

    private let idleTimeout: TimeAmount?
    private let readTimeout: TimeAmount?
    private var state = State.waiting
    private var timer: Scheduled<Void>?
    /// Called on the loop when a timeout ends the wait: `true` for the read timeout (a request is half read).
    var onTimeout: ((Bool) -> Void)?

    init(idleTimeout: TimeAmount?, readTimeout: TimeAmount?) {
        self.idleTimeout = idleTimeout
        self.readTimeout = readTimeout
    }

    var isActive: Bool { idleTimeout != nil || readTimeout != nil }

    /// The connection waits for a request (it opened, or an exchange ended with nothing else received).
    func waiting(on loop: any EventLoop) {
        state = .waiting
        arm(idleTimeout, reading: false, on: loop)
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
        onTimeout = nil
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
