import NIOConcurrencyHelpers
import NIOCore

/// Holds the routing table in force and publishes new ones.
///
/// The data plane reads its table from a per-event-loop slot that only that loop touches, so routing a request
/// takes no lock; publishing hands the new table to every loop. The control plane (API) reads `current`.
public final class RoutingTableStore: Sendable {
    /// The table reference one event loop routes with. Only touched on its own loop.
    public final class Slot: @unchecked Sendable {
        public let eventLoop: any EventLoop
        private var _table: RoutingTable

        init(eventLoop: any EventLoop, table: RoutingTable) {
            self.eventLoop = eventLoop
            self._table = table
        }

        /// The table this loop routes with now. Call on `eventLoop` only.
        public var table: RoutingTable {
            eventLoop.assertInEventLoop()
            return _table
        }

        fileprivate func replace(with table: RoutingTable) {
            eventLoop.assertInEventLoop()
            _table = table
        }
    }

    private let latest: NIOLockedValueBox<RoutingTable>
    private let slots: [ObjectIdentifier: Slot]

    public init(initial: RoutingTable, eventLoops: [any EventLoop]) {
        self.latest = NIOLockedValueBox(initial)
        var slots: [ObjectIdentifier: Slot] = [:]
        for loop in eventLoops { slots[ObjectIdentifier(loop)] = Slot(eventLoop: loop, table: initial) }
        self.slots = slots
    }

    /// The newest published table.
    public var current: RoutingTable { latest.withLockedValue { $0 } }

    /// The slot of `eventLoop`; call once per connection, not per request.
    public func slot(for eventLoop: any EventLoop) -> Slot {
        guard let slot = slots[ObjectIdentifier(eventLoop)] else {
            preconditionFailure("event loop \(eventLoop) is not one of the store's loops")
        }
        return slot
    }

    /// Makes `table` the one in force: requests routed after each loop has taken it use it; requests in flight
    /// finish on the table they started with. Returns when every loop has switched.
    @discardableResult
    public func publish(_ table: RoutingTable) -> EventLoopFuture<Void>? {
        latest.withLockedValue { $0 = table }
        let futures = slots.values.map { slot in
            slot.eventLoop.submit { slot.replace(with: table) }
        }
        guard let first = futures.first else { return nil }
        return EventLoopFuture.andAllSucceed(futures, on: first.eventLoop)
    }
}
