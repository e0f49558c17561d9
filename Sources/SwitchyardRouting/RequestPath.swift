import SwitchyardConfig

/// What is done to a request's path before routing, as Traefik does it: encoded characters that servers read
/// differently are refused, unreserved percent-encodings are decoded (RFC 3986 §2.3) and the others upper-cased
/// (§6.2.2.1), and `.`/`..` segments and repeated slashes are removed (§5.2.4). Routing and forwarding then agree on
/// one path: the one the server gets.
public enum RequestPath {
    /// Encoded characters a path may carry (`encodedCharacters`); each is refused unless allowed.
    public struct EncodedCharacters: Sendable, Hashable {
        public var slash = false
        public var backSlash = false
        public var nullCharacter = false
        public var semicolon = false
        public var percent = false
        public var questionMark = false
        public var hash = false

        public init() {}

        /// The `encodedCharacters` options of an entry point (the middleware's names).
        public init(_ options: EncodedCharactersMiddleware?) {
            slash = options?.allowEncodedSlash ?? false
            backSlash = options?.allowEncodedBackSlash ?? false
            nullCharacter = options?.allowEncodedNullCharacter ?? false
            semicolon = options?.allowEncodedSemicolon ?? false
            percent = options?.allowEncodedPercent ?? false
            questionMark = options?.allowEncodedQuestionMark ?? false
            hash = options?.allowEncodedHash ?? false
        }

        /// Whether `%XY` (upper-case hex digits) is allowed.
        func allows(_ high: UInt8, _ low: UInt8) -> Bool {
            switch (high, low) {
            case (UInt8(ascii: "2"), UInt8(ascii: "F")): return slash
            case (UInt8(ascii: "5"), UInt8(ascii: "C")): return backSlash
            case (UInt8(ascii: "0"), UInt8(ascii: "0")): return nullCharacter
            case (UInt8(ascii: "3"), UInt8(ascii: "B")): return semicolon
            case (UInt8(ascii: "2"), UInt8(ascii: "5")): return percent
            case (UInt8(ascii: "3"), UInt8(ascii: "F")): return questionMark
            case (UInt8(ascii: "2"), UInt8(ascii: "3")): return hash
            default: return true
            }
        }
    }

    public enum Outcome: Equatable, Sendable {
        /// Nothing to change.
        case unchanged
        /// The path to route and forward instead.
        case cleaned(String)
        /// Refused (400), for this reason.
        case refused(String)
    }

    private static func needsCleaning<Bytes: Collection<UInt8>>(_ bytes: Bytes, sanitize: Bool) -> Bool {
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == UInt8(ascii: "%") || (sanitize && byte == UInt8(ascii: "/") && previous == UInt8(ascii: "/"))
                || (sanitize && byte == UInt8(ascii: ".") && previous == UInt8(ascii: "/"))
            {
                return true
            }
            previous = byte
        }
        return false
    }

    /// The path (without the query) checked and cleaned; `sanitize` removes dot segments and repeated slashes.
    public static func clean(_ path: Substring, allowed: EncodedCharacters, sanitize: Bool) -> Outcome {
        let bytes = path.utf8
        // The common path has no `%`, no dot segment and no `//`: one scan, nothing copied.
        let needsWork = bytes.withContiguousStorageIfAvailable { needsCleaning($0, sanitize: sanitize) }
            ?? needsCleaning(Array(bytes), sanitize: sanitize)
        guard needsWork else { return .unchanged }
        // Percent-encodings: refused, decoded (unreserved) or upper-cased.
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            index = bytes.index(after: index)
            guard byte == UInt8(ascii: "%") else {
                decoded.append(byte)
                continue
            }
            guard index != bytes.endIndex, bytes.index(after: index) != bytes.endIndex,
                let high = hexDigit(bytes[index]), let low = hexDigit(bytes[bytes.index(after: index)])
            else { return .refused("a '%' that starts no percent-encoding") }
            let upperHigh = upperHex(high), upperLow = upperHex(low)
            guard allowed.allows(upperHigh, upperLow) else {
                return .refused("the encoded character %\(Character(Unicode.Scalar(upperHigh)))\(Character(Unicode.Scalar(upperLow))) is not allowed in the path")
            }
            let value = high << 4 | low
            if isUnreserved(value) {
                decoded.append(value)
            } else {
                decoded += [UInt8(ascii: "%"), upperHigh, upperLow]
            }
            index = bytes.index(index, offsetBy: 2)
        }
        let result = sanitize ? removeDotSegments(decoded) : decoded
        guard !result.elementsEqual(bytes) else { return .unchanged }
        return .cleaned(String(decoding: result, as: UTF8.self))
    }

    /// RFC 3986 §5.2.4 over segments, also dropping empty segments (repeated slashes); a trailing slash stays.
    static func removeDotSegments(_ path: [UInt8]) -> [UInt8] {
        var output: [ArraySlice<UInt8>] = []
        let segments = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for (position, segment) in segments.enumerated() {
            let last = position == segments.count - 1
            if segment.elementsEqual([UInt8(ascii: ".")]) {
                if last { output.append([]) }
            } else if segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                if !output.isEmpty { output.removeLast() }
                if last { output.append([]) }
            } else if segment.isEmpty {
                if last && position > 0 { output.append([]) }
            } else {
                output.append(segment)
            }
        }
        var result: [UInt8] = []
        result.reserveCapacity(path.count)
        for segment in output {
            result.append(UInt8(ascii: "/"))
            result += segment
        }
        if result.isEmpty { result = [UInt8(ascii: "/")] }
        return result
    }

    static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    static func upperHex(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
