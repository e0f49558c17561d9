import Foundation

// Writes a Swift file holding every file under a folder, base64-encoded, keyed by its path inside the folder.
// Usage: DashboardEmbedder <folder> <output.swift>
let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: DashboardEmbedder <folder> <output.swift>\n".utf8))
    exit(2)
}
let folder = URL(fileURLWithPath: arguments[1]).standardizedFileURL
var entries: [(String, String)] = []
if let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) {
    for case let url as URL in walker {
        guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
        let path = String(url.standardizedFileURL.path.dropFirst(folder.path.count + 1))
        if path.hasPrefix(".") || path.contains("/.") { continue }
        let data = try Data(contentsOf: url)
        entries.append((path, data.base64EncodedString()))
    }
}
var source = "// Generated from dashboard/ at build time. Do not edit.\n\n"
source += "let embeddedDashboardFiles: [String: String] = [\n"
for (path, base64) in entries.sorted(by: { $0.0 < $1.0 }) {
    source += "    \"\(path)\": \"\(base64)\",\n"
}
source += "]\n"
try source.write(to: URL(fileURLWithPath: arguments[2]), atomically: true, encoding: .utf8)
