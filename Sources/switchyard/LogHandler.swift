import Foundation
import Logging
import SwitchyardConfig

/// Writes log lines to standard error, in Traefik's `common` (text) or `json` format.
struct SwitchyardLogHandler: LogHandler {
    let label: String
    let json: Bool
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let time = InternetTime.rfc3339(WallClock.seconds())
        var line: String
        if json {
            var object: [String: String] = ["time": time, "level": Self.jsonLevel(event.level), "message": "\(event.message)"]
            for (key, value) in all { object[key] = "\(value)" }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        } else {
            line = "\(time) \(Self.shortLevel(event.level)) \(event.message)"
            for (key, value) in all.sorted(by: { $0.key < $1.key }) {
                let text = "\(value)"
                line += text.contains(" ") ? " \(key)=\"\(text)\"" : " \(key)=\(text)"
            }
        }
        line += "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func shortLevel(_ level: Logger.Level) -> String {
        switch level {
        case .trace: return "TRC"
        case .debug: return "DBG"
        case .info, .notice: return "INF"
        case .warning: return "WRN"
        case .error: return "ERR"
        case .critical: return "FTL"
        }
    }

    static func jsonLevel(_ level: Logger.Level) -> String {
        switch level {
        case .trace: return "trace"
        case .debug: return "debug"
        case .info, .notice: return "info"
        case .warning: return "warn"
        case .error: return "error"
        case .critical: return "fatal"
        }
    }
}
