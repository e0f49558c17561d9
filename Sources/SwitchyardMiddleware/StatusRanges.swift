/// Status codes and ranges as options write them: `"503"`, `"500-599"`.
public enum StatusRanges {
    /// The range `text` names, or nil when it is not a status or a range of statuses (100 to 599, low to high).
    public static func parse(_ text: String) -> ClosedRange<Int>? {
        let bounds = text.split(separator: "-", maxSplits: 1).map { Int($0.filter { $0 != " " }) }
        guard let low = bounds.first ?? nil, let high = bounds.last ?? nil, (100...599).contains(low), (100...599).contains(high),
            low <= high
        else { return nil }
        return low...high
    }

    /// Every range of `texts`, or the first text that is not one.
    public static func parse(_ texts: [String]) -> Result<[ClosedRange<Int>], InvalidStatus> {
        var ranges: [ClosedRange<Int>] = []
        for text in texts {
            guard let range = parse(text) else { return .failure(InvalidStatus(text: text)) }
            ranges.append(range)
        }
        return .success(ranges)
    }

    public struct InvalidStatus: Error, Sendable {
        public let text: String
        public var message: String { "'\(text)' is not a status or a range like 500-599" }
    }
}
