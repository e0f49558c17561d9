import NIOConcurrencyHelpers

/// A flag set once from any thread.
final class ManagedFlag: Sendable {
    private let value = NIOLockedValueBox(false)
    func set() { value.withLockedValue { $0 = true } }
    var isSet: Bool { value.withLockedValue { $0 } }
}
