import Foundation
import SwitchyardConfig
import SwitchyardProviderKit
import SwitchyardRouting
import Testing

@testable import SwitchyardFileProvider

@Suite struct FileConfigurationLoaderTests {
    final class Folder {
        let path: String
        init() throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("sy-file-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        func write(_ name: String, _ text: String) throws {
            let file = (path as NSString).appendingPathComponent(name)
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        }
        func remove(_ name: String) throws { try FileManager.default.removeItem(atPath: (path as NSString).appendingPathComponent(name)) }
    }

    static let good = """
        http:
          routers:
            a:
              rule: "Path(`/a`)"
              service: s
          services:
            s:
              loadBalancer:
                servers: [{url: "http://127.0.0.1:1"}]
        """

    @Test func brokenFileKeepsItsLastGoodContent() throws {
        let folder = try Folder()
        try folder.write("a.yml", Self.good)
        var loader = FileConfigurationLoader(options: FileProviderOptions(directory: folder.path))
        #expect(loader.load(provider: "file").configuration.http?.routers?["a"] != nil)
        try folder.write("a.yml", "http:\n  routers:\n    a: {rule: [\n")
        let broken = loader.load(provider: "file")
        #expect(broken.configuration.http?.routers?["a"]?.rule == "Path(`/a`)")
        let issue = try #require(broken.issues.first)
        #expect(issue.location.source.hasSuffix("a.yml"))
        #expect(issue.location.line != nil)
        // Unchanged broken file: the error is still reported, the content still served.
        let again = loader.load(provider: "file")
        #expect(again.issues == broken.issues)
        #expect(again.configuration == broken.configuration)
        try folder.remove("a.yml")
        let gone = loader.load(provider: "file")
        #expect(gone.configuration.http == nil)
        #expect(gone.issues.isEmpty)
    }

    @Test func readsSubfoldersAndSkipsHiddenAndOtherFiles() throws {
        let folder = try Folder()
        try folder.write("sub/b.toml", "[http.routers.b]\nrule = \"Path(`/b`)\"\nservice = \"s\"\n")
        try folder.write(".a.yml.swp", "garbage: [")
        try folder.write("notes.txt", "garbage: [")
        try folder.write("c.json", #"{"http": {"routers": {"c": {"rule": "Path(`/c`)", "service": "s"}}}}"#)
        var loader = FileConfigurationLoader(options: FileProviderOptions(directory: folder.path))
        let snapshot = loader.load(provider: "file")
        #expect(snapshot.issues.isEmpty)
        #expect(Set(snapshot.configuration.http?.routers?.keys ?? [:].keys) == ["b", "c"])
    }

    @Test func aNameDefinedTwiceKeepsTheFirstAndWarns() throws {
        let folder = try Folder()
        try folder.write("1.yml", Self.good)
        try folder.write("2.yml", "http:\n  routers:\n    a:\n      rule: \"Path(`/other`)\"\n      service: s\n")
        var loader = FileConfigurationLoader(options: FileProviderOptions(directory: folder.path))
        let snapshot = loader.load(provider: "file")
        #expect(snapshot.configuration.http?.routers?["a"]?.rule == "Path(`/a`)")
        let warning = try #require(snapshot.issues.first)
        #expect(warning.severity == .warning)
        #expect(warning.location.source.hasSuffix("2.yml"))
        #expect(warning.message.contains("1.yml:3:5"))
    }

    @Test func routerErrorsPointAtTheLineOfTheBadOption() throws {
        let folder = try Folder()
        try folder.write("a.yml", Self.good.replacingOccurrences(of: "Path(`/a`)", with: "Path(`/a`) &&"))
        var loader = FileConfigurationLoader(options: FileProviderOptions(directory: folder.path))
        let merged = ConfigurationMerger.merge([loader.load(provider: "file")])
        let table = RoutingTableCompiler(entryPoints: ["web"]).compile(merged, version: 1)
        let error = try #require(table.status.routers["a@file"]?.errors.first)
        #expect(error.contains("a.yml:4:7: http.routers.a.rule: invalid rule: column"), "\(error)")
    }

    @Test func missingDirectoryIsAnError() {
        var loader = FileConfigurationLoader(options: FileProviderOptions(directory: "/nonexistent/sy"))
        #expect(loader.load(provider: "file").issues.first?.message == "the directory does not exist")
    }
}
