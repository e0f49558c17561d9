import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SwitchyardConfig
import SwitchyardRouting

/// The access log (`accessLog`): one line per exchange, in Traefik's common format or as JSON with Traefik's field
/// names (plus `TableVersion`). The event loops only filter and queue the exchange's record; a writer thread
/// formats and writes the lines. The queue is bounded: when the writer falls behind, lines are dropped and counted,
/// never the requests slowed. `reopen()` (on SIGUSR1) reopens the file after a log rotation.
public final class AccessLog: ExchangeObserver {
    public enum Format: String, Sendable {
        case common
        case json
    }

    public enum FieldMode: String, Sendable {
        case keep
        case drop
        case redact
    }

    public struct Options: Sendable {
        /// nil: standard output.
        public var filePath: String?
        public var format = Format.common
        /// Lines that may wait for the writer (`bufferingSize`, at least 1).
        public var bufferingSize = 10_000
        /// `filters.statusCodes`: ranges of statuses to log; with any filter set, a line is logged when one matches.
        public var statusCodes: [ClosedRange<Int>] = []
        /// `filters.retryAttempts`: log exchanges that were retried.
        public var retryAttempts = false
        /// `filters.minDuration` in nanoseconds: log exchanges that took longer (0: not a filter).
        public var minDuration: Int64 = 0
        /// `fields.defaultMode` and `fields.names.<Field>`.
        public var fieldsDefaultMode = FieldMode.keep
        public var fieldNames: [String: FieldMode] = [:]
        /// `fields.headers.defaultMode` (drop) and `fields.headers.names.<Header>`.
        public var headersDefaultMode = FieldMode.drop
        public var headerNames: [String: FieldMode] = [:]

        public init() {}

        var hasFilters: Bool { !statusCodes.isEmpty || retryAttempts || minDuration > 0 }

        /// Whether an exchange is logged by the filters.
        func accepts(_ record: ExchangeRecord) -> Bool {
            guard hasFilters else { return true }
            if statusCodes.contains(where: { $0.contains(record.status) }) { return true }
            if retryAttempts && record.retries > 0 { return true }
            return minDuration > 0 && record.duration > minDuration
        }
    }

    private struct Queue {
        /// Each record with the number of requests logged before it since start (Traefik's `RequestCount`).
        var records = CircularBuffer<(ExchangeRecord, Int)>(initialCapacity: 64)
        var count = 0
        var dropped = 0
        var reopen = false
        var stopped = false
    }

    private let options: Options
    private let queue = NIOLockedValueBox(Queue())
    private let wakeUp = ConditionLock(value: 0)
    private let finished = ConditionLock(value: 0)

    /// Opens the file (or standard output) and starts the writer; throws when the file cannot be opened.
    public init(options: Options) throws {
        self.options = options
        let handle = try Self.open(options.filePath)
        let thread = Thread { [self] in self.write(to: handle) }
        thread.name = "access log"
        thread.start()
    }

    public func exchangeEnded(_ record: ExchangeRecord) {
        guard options.accepts(record) else { return }
        let first = queue.withLockedValue { queue -> Bool in
            guard queue.records.count < max(1, options.bufferingSize) else {
                queue.dropped += 1
                return false
            }
            queue.count += 1
            queue.records.append((record, queue.count))
            return queue.records.count == 1
        }
        if first { signal() }
    }

    /// Reopens the file: the old one may have been moved away by log rotation.
    public func reopen() {
        queue.withLockedValue { $0.reopen = true }
        signal()
    }

    /// Writes what is queued, then stops the writer (bounded: 5 s).
    public func stop() {
        queue.withLockedValue { $0.stopped = true }
        signal()
        if finished.lock(whenValue: 1, timeoutSeconds: 5) { finished.unlock() }
    }

    private func signal() {
        wakeUp.lock()
        wakeUp.unlock(withValue: 1)
    }

    static func open(_ path: String?) throws -> FileHandle {
        guard let path, !path.isEmpty else { return FileHandle.standardOutput }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw AccessLogError(message: "cannot create the access log \(path)")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw AccessLogError(message: "cannot open the access log \(path) for writing")
        }
        handle.seekToEndOfFile()
        return handle
    }

    /// The writer thread: waits for records (or 1 s), formats and writes them, until stopped.
    private func write(to initial: FileHandle) {
        var handle = initial
        let formatter = LineFormatter(options: options)
        while true {
            if wakeUp.lock(whenValue: 1, timeoutSeconds: 1) { wakeUp.unlock(withValue: 0) }
            let (records, dropped, reopen, stopped) = queue.withLockedValue { queue in
                let taken = Array(queue.records)
                queue.records.removeAll(keepingCapacity: true)
                defer { queue.dropped = 0; queue.reopen = false }
                return (taken, queue.dropped, queue.reopen, queue.stopped)
            }
            if reopen, options.filePath != nil, let fresh = try? Self.open(options.filePath) {
                if handle !== FileHandle.standardOutput { try? handle.close() }
                handle = fresh
            }
            var text = ""
            for (record, count) in records { text += formatter.line(record, count: count) + "\n" }
            if dropped > 0 { text += formatter.droppedLine(dropped) + "\n" }
            if !text.isEmpty { try? handle.write(contentsOf: Data(text.utf8)) }
            if stopped { break }
        }
        finished.lock()
        finished.unlock(withValue: 1)
    }
}

public struct AccessLogError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Formats records as lines, on the writer thread.
struct LineFormatter {
    let options: AccessLog.Options

    init(options: AccessLog.Options) {
        self.options = options
    }

    func line(_ record: ExchangeRecord, count: Int) -> String {
        options.format == .json ? json(record, count: count) : commonLine(record, count: count)
    }

    func droppedLine(_ count: Int) -> String {
        let message = "access log: \(count) lines dropped (the writer fell behind)"
        if options.format == .json {
            return "{\"level\":\"warning\",\"msg\":\"\(message)\",\"time\":\"\(InternetTime.rfc3339(WallClock.seconds(), milliseconds: true))\"}"
        }
        return message
    }

    /// Traefik's common log format: CLF plus request count, router, service URL and duration; then the table
    /// version as `v<n>`.
    func commonLine(_ record: ExchangeRecord, count: Int) -> String {
        let request = record.request
        func quoted(_ value: String?) -> String { "\"\(value.flatMap { $0.isEmpty ? nil : $0 } ?? "-")\"" }
        let started = InternetTime.commonLog(record.started)
        return "\(record.clientIP) - \(record.username ?? "-") [\(started)] "
            + "\"\(request.method.rawValue) \(request.uri) HTTP/\(request.version.major).\(request.version.minor)\" "
            + "\(record.status) \(record.responseBytes) \(quoted(request.headers.first(name: "referer"))) "
            + "\(quoted(request.headers.first(name: "user-agent"))) \(count) "
            + "\(quoted(record.router)) \(quoted(record.serverURL)) \(record.duration / 1_000_000)ms v\(record.tableVersion)"
    }

    func json(_ record: ExchangeRecord, count: Int) -> String {
        let request = record.request
        let host = request.headers.first(name: "host") ?? ""
        let (requestHost, requestPort) = Self.split(host)
        let path = String(request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        let started = InternetTime.rfc3339(record.started, milliseconds: true)
        var fields: [String: Any] = [
            "ClientAddr": record.clientPort > 0 ? "\(record.clientIP):\(record.clientPort)" : record.clientIP,
            "ClientHost": record.clientIP,
            "ClientPort": record.clientPort > 0 ? String(record.clientPort) : "",
            "ClientUsername": record.username ?? "-",
            "DownstreamContentSize": record.responseBytes,
            "DownstreamStatus": record.status,
            "Duration": record.duration,
            "OriginStatus": record.originStatus,
            "RequestAddr": host,
            "RequestContentSize": record.requestBytes,
            "RequestHost": requestHost,
            "RequestMethod": request.method.rawValue,
            "RequestPath": path,
            "RequestPort": requestPort,
            "RequestProtocol": "HTTP/\(request.version.major).\(request.version.minor)",
            "RequestScheme": record.scheme,
            "RequestCount": count,
            "RetryAttempts": record.retries,
            "StartUTC": started,
            "StartLocal": started,
            "entryPointName": record.entryPoint,
            "TableVersion": record.tableVersion,
        ]
        if let router = record.router { fields["RouterName"] = router }
        if let service = record.service { fields["ServiceName"] = service }
        if let url = record.serverURL {
            fields["ServiceURL"] = url
            fields["ServiceAddr"] = url.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? url
        }
        for (name, mode) in options.fieldNames where mode != .keep { fields[name] = nil }
        if options.fieldsDefaultMode == .drop {
            fields = fields.filter { options.fieldNames[$0.key] == .keep }
        }
        for (prefix, headers) in [("request_", request.headers), ("downstream_", record.responseHeaders)] {
            for (name, value) in headers {
                let mode = options.headerNames.first { $0.key.lowercased() == name.lowercased() }?.value ?? options.headersDefaultMode
                switch mode {
                case .keep: fields[prefix + Self.canonical(name)] = value
                case .redact: fields[prefix + Self.canonical(name)] = "REDACTED"
                case .drop: continue
                }
            }
        }
        fields["level"] = "info"
        fields["msg"] = ""
        fields["time"] = InternetTime.rfc3339(WallClock.seconds(), milliseconds: true)
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// `content-type` → `Content-Type`, as Traefik names headers in its log.
    static func canonical(_ name: String) -> String {
        name.split(separator: "-", omittingEmptySubsequences: false)
            .map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined(separator: "-")
    }

    /// `host:port` → (host, port); `[v6]:port` too; "-" for a missing port as Traefik logs it.
    static func split(_ authority: String) -> (String, String) {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            let host = String(authority[authority.index(after: authority.startIndex)..<close])
            let rest = authority[authority.index(after: close)...]
            return (host, rest.hasPrefix(":") ? String(rest.dropFirst()) : "-")
        }
        guard let colon = authority.lastIndex(of: ":") else { return (authority, "-") }
        return (String(authority[..<colon]), String(authority[authority.index(after: colon)...]))
    }
}
