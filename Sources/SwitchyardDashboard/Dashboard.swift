import Foundation

/// The dashboard's files, embedded in the binary from `dashboard/` when it is built. With
/// `SWITCHYARD_DASHBOARD_DIR` set, they are read from that folder instead, at each request (for working on them).
public enum Dashboard {
    public struct File: Sendable {
        public var contentType: String
        public var bytes: Data
    }

    private static let embedded: [String: File] = embeddedDashboardFiles.reduce(into: [:]) { files, entry in
        if let bytes = Data(base64Encoded: entry.value) {
            files[entry.key] = File(contentType: contentType(of: entry.key), bytes: bytes)
        }
    }

    private static let folder = ProcessInfo.processInfo.environment["SWITCHYARD_DASHBOARD_DIR"]

    /// The file at `path` inside the dashboard (`index.html`, `app.js`, ...); nil when there is none.
    public static func file(_ path: String) -> File? {
        guard !path.split(separator: "/").contains(where: { $0 == ".." || $0.hasPrefix(".") }) else { return nil }
        if let folder {
            guard let bytes = FileManager.default.contents(atPath: folder + "/" + path) else { return nil }
            return File(contentType: contentType(of: path), bytes: bytes)
        }
        return embedded[path]
    }

    /// The embedded files' paths and sizes.
    public static var inventory: [(path: String, bytes: Int)] {
        embedded.map { ($0.key, $0.value.bytes.count) }.sorted { $0.path < $1.path }
    }

    static func contentType(of path: String) -> String {
        switch path.split(separator: ".").last.map({ $0.lowercased() }) {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "json": "application/json"
        default: "application/octet-stream"
        }
    }
}
