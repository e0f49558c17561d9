import Foundation
import SwitchyardConfig
import Testing

@testable import switchyard

@Suite struct StaticConfigurationTests {
    static func load(_ arguments: [String], environment: [String: String] = [:]) throws(ConfigurationIssue) -> RuntimeSettings {
        let loaded = try StaticConfigurationLoader(arguments: arguments, environment: environment).load()
        return try RuntimeSettings.resolve(loaded)
    }

    static func failure(_ arguments: [String], environment: [String: String] = [:]) -> ConfigurationIssue? {
        do {
            _ = try load(arguments, environment: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test func readsTraefikFlagNames() throws {
        let settings = try Self.load([
            "--entryPoints.web.address=127.0.0.1:8000", "--entryPoints.v6.address=[::1]:8001",
            "--entryPoints.all.address=:8002", "--providers.file.directory=/tmp/dyn",
            "--providers.providersThrottleDuration=500ms", "--api.insecure", "--ping=true", "--log.level=debug",
            "--log.format=json", "--lifeCycle.graceTimeOut=3s",
        ])
        let byName = Dictionary(uniqueKeysWithValues: settings.entryPoints.map { ($0.name, $0) })
        #expect(byName["web"]?.host == "127.0.0.1")
        #expect(byName["web"]?.port == 8000)
        #expect(byName["v6"]?.host == "::1")
        #expect(byName["all"]?.host == "::")
        #expect(byName["traefik"]?.port == 8080)
        #expect(settings.defaultEntryPoints.sorted() == ["all", "v6", "web"])
        #expect(settings.fileProvider?.directory == "/tmp/dyn")
        #expect(settings.fileProvider?.watch == true)
        #expect(settings.throttle == .milliseconds(500))
        #expect(settings.apiInsecure)
        #expect(settings.pingEntryPoint == "traefik")
        #expect(settings.logLevel == .debug)
        #expect(settings.logFormat == .json)
        #expect(settings.graceTimeout == .seconds(3))
    }

    @Test func routersWithoutEntryPointsSkipOnlyTheImplicitAPIEntryPoint() throws {
        #expect(try Self.load(["--entryPoints.web.address=:1", "--api.insecure"]).defaultEntryPoints == ["web"])
        #expect(
            try Self.load(["--entryPoints.web.address=:1", "--entryPoints.traefik.address=:2", "--api.insecure"])
                .defaultEntryPoints.sorted() == ["traefik", "web"])
        #expect(
            try Self.load(["--entryPoints.web.address=:1", "--entryPoints.b.address=:2", "--entryPoints.b.asDefault"])
                .defaultEntryPoints == ["b"])
    }

    @Test func defaultsAreTraefiks() throws {
        let settings = try Self.load(["--providers.file.filename=/tmp/x.yml"])
        #expect(settings.entryPoints.map(\.name) == ["http"])
        #expect(settings.entryPoints.first?.port == 80)
        #expect(settings.throttle == .seconds(2))
        #expect(settings.graceTimeout == .seconds(10))
        #expect(settings.logLevel == .error)
        #expect(settings.pingEntryPoint == nil)
    }

    @Test func flagsWinOverEnvironmentWhichWinsOverTheFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sy-static-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("static.toml").path
        try """
            [entryPoints.web]
              address = ":1000"
            [entryPoints.other]
              address = ":1001"
            [log]
              level = "WARN"
              format = "json"
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let settings = try Self.load(
            ["--configFile=\(file)", "--entryPoints.web.address=:3000"],
            environment: ["SWITCHYARD_ENTRYPOINTS_WEB_ADDRESS": ":2000", "SWITCHYARD_LOG_LEVEL": "INFO", "HOME": "/root"])
        let byName = Dictionary(uniqueKeysWithValues: settings.entryPoints.map { ($0.name, $0.port) })
        #expect(byName == ["web": 3000, "other": 1001])
        #expect(settings.logLevel == .info)
        #expect(settings.logFormat == .json)
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var environment: [String: String] = [:]
        var fragment: String
        var testDescription: String { fragment }
    }

    @Test(arguments: [
        Bad(arguments: ["--entryPoints.web.adress=:1"], fragment: "unknown key 'adress'; did you mean 'address'?"),
        Bad(arguments: ["--providers.providersThrottleDuration=soon"], fragment: "'soon' is not a duration"),
        Bad(arguments: ["--api.insecure=yes please"], fragment: "expected true or false"),
        Bad(arguments: ["--log.level=LOUD"], fragment: "'LOUD' is not a log level"),
        Bad(arguments: ["--log.format=xml"], fragment: "use common or json"),
        Bad(arguments: ["--entryPoints.web.address=8000"], fragment: "is not an address"),
        Bad(arguments: ["--entryPoints.web.address=::1:80"], fragment: "in brackets"),
        Bad(arguments: ["--entryPoints.web.address=:70000"], fragment: "port must be a number"),
        Bad(arguments: ["--entryPoints.dns.address=:53/udp"], fragment: "only TCP entry points"),
        Bad(arguments: ["--providers.file.directory=/a", "--providers.file.filename=/b"], fragment: "not both"),
        Bad(arguments: ["--ping.entryPoint=nowhere"], fragment: "entryPoint \"nowhere\" doesn't exist"),
        Bad(arguments: ["--frobnicate=1"], fragment: "unknown key 'frobnicate'"),
        Bad(arguments: ["positional"], fragment: "expected a flag"),
        Bad(arguments: [], environment: ["SWITCHYARD_LOG_LEVL": "DEBUG"], fragment: "unknown key 'levl'"),
    ])
    func badValuesNameTheirSource(_ bad: Bad) throws {
        let issue = try #require(Self.failure(bad.arguments, environment: bad.environment))
        #expect(issue.description.contains(bad.fragment), "\(issue.description)")
    }

    @Test func unknownFlagNamesTheFlag() throws {
        let issue = try #require(Self.failure(["--entryPoints.web.adress=:1"]))
        #expect(issue.location.source == "flag --entryPoints.web.adress=:1")
        #expect(issue.keyPath == "entryPoints.web.adress")
    }

    @Test func badValuesNameTheFlagOrVariable() throws {
        #expect(Self.failure(["--log.level=LOUD"])?.location.source == "flag --log.level=LOUD")
        #expect(Self.failure(["--entryPoints.web.address=80"])?.location.source == "flag --entryPoints.web.address=80")
        #expect(
            Self.failure([], environment: ["SWITCHYARD_LOG_FORMAT": "xml"])?.location.source
                == "environment variable SWITCHYARD_LOG_FORMAT")
    }

    @Test func noConfigurationMeansTheBuiltInDefault() throws {
        let loaded = try StaticConfigurationLoader(arguments: [], environment: [:]).load()
        if loaded.isBuiltInDefault {
            #expect(loaded.configuration.providers?.file?.directory == "providers/file/examples")
            #expect(loaded.configuration.api?.insecure == true)
        }
    }
}
