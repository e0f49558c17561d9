import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SwitchyardConfig
import SwitchyardRouting

/// `/api/events`: Server-Sent Events to every dashboard that listens: `version` for each new table, `errors` when
/// the configuration's issues change, `health` when a server goes up or down, `certificate` when one is obtained,
/// renewed or fails. Each event is formatted once and handed to every subscriber's writer; a comment every 15 s
/// keeps idle connections open through other proxies.
public final class EventHub: Sendable {
    public static let maximumSubscribers = 256
    private let subscribers = NIOLockedValueBox<[InternalStreamWriter]>([])
    private let keepAlive: RepeatedTask

    public init(eventLoop: any EventLoop) {
        let subscribers = self.subscribers
        keepAlive = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(15), delay: .seconds(15)) { _ in
            EventHub.broadcast(ByteBuffer(string: ": keep-alive\n\n"), to: subscribers)
        }
    }

    public func stop() {
        keepAlive.cancel()
        subscribers.withLockedValue { writers in
            for writer in writers { writer.close() }
            writers.removeAll()
        }
    }

    /// Sends `data`, encoded as JSON, as an event named `event` to every subscriber.
    public func publish(_ event: String, _ data: some Encodable) {
        guard subscribers.withLockedValue({ !$0.isEmpty }) else { return }
        Self.broadcast(Self.format(event, data), to: subscribers)
    }

    static func format(_ event: String, _ data: some Encodable) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(data)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
        return ByteBuffer(string: "event: \(event)\ndata: \(json)\n\n")
    }

    private static func broadcast(_ buffer: ByteBuffer, to subscribers: NIOLockedValueBox<[InternalStreamWriter]>) {
        let writers = subscribers.withLockedValue { writers in
            writers.removeAll { $0.isClosed }
            return writers
        }
        for writer in writers { writer.write(buffer) }
    }

    /// Adds a subscriber; false when there are too many already.
    func subscribe(_ writer: InternalStreamWriter) -> Bool {
        subscribers.withLockedValue { writers in
            writers.removeAll { $0.isClosed }
            guard writers.count < Self.maximumSubscribers else { return false }
            writers.append(writer)
            return true
        }
    }

    /// The response to `GET /api/events`: a `hello` event with the version in force, then the hub's events.
    func response(version: UInt64) -> InternalResponse {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/event-stream")
        headers.add(name: "cache-control", value: "no-cache")
        headers.add(name: "x-accel-buffering", value: "no")
        return InternalResponse(
            status: .ok, headers: headers, body: Self.format("hello", ["version": version]),
            stream: Subscription(hub: self))
    }

    struct Subscription: InternalStream {
        let hub: EventHub

        func start(_ writer: InternalStreamWriter) {
            if !hub.subscribe(writer) {
                writer.write(EventHub.format("error", ["message": "too many event listeners"]))
                writer.close()
            }
        }
    }
}

/// The events the hub sends.
public enum APIEvent {
    public struct Version: Encodable, Sendable {
        public var version: UInt64
        public var changed: [String]
        public var errors: Int
        public var warnings: Int
        public var created: String

        public init(table: RoutingTable, changed: [String]) {
            version = table.version
            self.changed = changed
            errors = table.status.issues.count { $0.severity == .error }
            warnings = table.status.issues.count { $0.severity == .warning }
            created = InternetTime.rfc3339(table.createdAt)
        }
    }

    public struct Health: Encodable, Sendable {
        public var service: String
        public var server: String
        public var status: String

        public init(service: String, server: String, up: Bool) {
            self.service = service
            self.server = server
            status = up ? "UP" : "DOWN"
        }
    }
}
