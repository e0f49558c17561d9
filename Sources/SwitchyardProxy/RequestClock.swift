import NIOCore

/// `transport.respondingTimeouts` of an HTTP/1.1 connection, as Go's server keeps them for Traefik: `idleTimeout`
/// while it waits for the next request (180 s), `readTimeout` from the request's first byte until its last one
/// (60 s: slow headers and slow bodies alike), `writeTimeout` from a request's head until its response has been
/// written (none by default). the HTTP/1 codec reports bytes as it reads them; the proxy
/// handler reports when a head and a whole request have been read and when the connection waits again.
final class RequestClock {
    enum State { case waiting, reading, busy }

    private let idleTimeout: TimeAmount?
    private let readTimeout: TimeAmount?
    private let writeTimeout: TimeAmount?
    /// The shortest of the idle and read timeouts: the timer never fires later than this after it is armed.
    private let step: TimeAmount?
    private var state = State.waiting
    /// When the current wait ends (nil: no limit), and whether it is the read timeout.
    private var deadline: NIODeadline?
    private var deadlineIsRead = false
    /// One timer, armed at most `step` ahead: a new deadline is always at least `step` away, so it is never
    /// earlier than the timer, and a state change costs a clock read instead of a task scheduled and cancelled.
    /// The timers hold the clock until they fire or `stop` cancels them (no weak reference: see `ProxyHandler`'s
    /// use of `onTimeout`).
    private var timer: Scheduled<Void>?
    private var writeTimer: Scheduled<Void>?
    /// Called on the loop when a timeout ends the wait: `true` for the read timeout (a request is half read).
    var onTimeout: ((Bool) -> Void)?
    /// Called on the loop when a response was not written within `writeTimeout` of its request's head.
    var onWriteTimeout: (() -> Void)?

    init(idleTimeout: TimeAmount?, readTimeout: TimeAmount?, writeTimeout: TimeAmount? = nil) {
        self.idleTimeout = idleTimeout.flatMap { $0.nanoseconds > 0 ? $0 : nil }
        self.readTimeout = readTimeout.flatMap { $0.nanoseconds > 0 ? $0 : nil }
        self.writeTimeout = writeTimeout
        self.step = [self.idleTimeout, self.readTimeout].compactMap { $0 }.min()
    }

    var isActive: Bool { idleTimeout != nil || readTimeout != nil || writeTimeout != nil }

    /// The connection waits for a request (it opened, or an exchange ended with nothing else received).
    func waiting(on loop: any EventLoop) {
        state = .waiting
        writeTimer?.cancel()
        writeTimer = nil
        wait(idleTimeout, reading: false, on: loop)
    }

    /// A request's head has been read: its response must be written within `writeTimeout`.
    func headRead(on loop: any EventLoop) {
        guard let writeTimeout, writeTimeout.nanoseconds > 0 else { return }
        writeTimer?.cancel()
        writeTimer = loop.assumeIsolated().scheduleTask(in: writeTimeout) {
            self.writeTimer = nil
            self.onWriteTimeout?()
        }
    }

    /// Bytes came from the client.
    func bytesArrived(on loop: any EventLoop) {
        guard state == .waiting else { return }
        state = .reading
        wait(readTimeout, reading: true, on: loop)
    }

    /// The request has been read whole: no limit until its response ends.
    func requestRead() {
        state = .busy
        deadline = nil
    }

    func stop() {
        timer?.cancel()
        timer = nil
        writeTimer?.cancel()
        writeTimer = nil
        deadline = nil
        onTimeout = nil
        onWriteTimeout = nil
    }

    private func wait(_ timeout: TimeAmount?, reading: Bool, on loop: any EventLoop) {
        guard let timeout else {
            deadline = nil
            return
        }
        let now = NIODeadline.now()
        deadline = now + timeout
        deadlineIsRead = reading
        if timer == nil { arm(at: now, on: loop) }
    }

    /// Arms the timer for the deadline, or `step` from now if that is sooner.
    private func arm(at now: NIODeadline, on loop: any EventLoop) {
        guard let deadline, let step else { return }
        timer = loop.assumeIsolated().scheduleTask(deadline: min(deadline, now + step)) { self.fire(on: loop) }
    }

    private func fire(on loop: any EventLoop) {
        timer = nil
        guard let deadline else { return }
        let now = NIODeadline.now()
        if now >= deadline {
            self.deadline = nil
            onTimeout?(deadlineIsRead)
        } else {
            arm(at: now, on: loop)
        }
    }
}

@available(*, unavailable)
extension RequestClock: Sendable {}
