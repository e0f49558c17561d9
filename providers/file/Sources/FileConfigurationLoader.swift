import Foundation
import SwitchyardConfig
import SwitchyardProviderKit

/// Reads the configuration files of the file provider. Keeps the last good content of every file, so a file that
/// breaks keeps serving what it said before, and reports the error with file and line.
struct FileConfigurationLoader {
    struct FileContent {
        var text: String
        var configuration: DynamicConfiguration
        var origins: [ResourceKey: SourceLocation]
    }

    let options: FileProviderOptions
    private(set) var lastGood: [String: FileContent] = [:]
    private var lastText: [String: String] = [:]
    private var lastIssue: [String: ConfigurationIssue] = [:]

    init(options: FileProviderOptions) {
        self.options = options
    }

    /// The files to read now, sorted.
    func configurationFiles() -> (files: [String], issues: [ConfigurationIssue]) {
        let fileManager = FileManager.default
        if let filename = options.filename {
            return ([filename], [])
        }
        guard let directory = options.directory else { return ([], []) }
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            return ([], [ConfigurationIssue(at: SourceLocation(source: directory), message: "the directory does not exist")])
        }
        var files: [String] = []
        if let enumerator = fileManager.enumerator(atPath: directory) {
            for case let relative as String in enumerator {
                let name = (relative as NSString).lastPathComponent
                if name.hasPrefix(".") { continue }  // editors' swap and backup files
                guard ConfigDocument.Format(fileName: name) != nil else { continue }
                let path = (directory as NSString).appendingPathComponent(relative)
                var isDir: ObjCBool = false
                if fileManager.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue { files.append(path) }
            }
        }
        return (files.sorted(), [])
    }

    /// Reads every file and returns the provider's whole view.
    mutating func load(provider: String) -> ProviderSnapshot {
        let (files, listingIssues) = configurationFiles()
        var issues = listingIssues
        var seen = Set<String>()
        for path in files {
            seen.insert(path)
            guard let data = FileManager.default.contents(atPath: path) else {
                if lastGood[path] == nil && options.filename != nil {
                    issues.append(ConfigurationIssue(at: SourceLocation(source: path), message: "cannot read the file"))
                }
                lastGood[path] = nil
                continue
            }
            let text = String(decoding: data, as: UTF8.self)
            if text == lastText[path] {
                if let issue = lastIssue[path] { issues.append(issue) }
                continue
            }
            lastText[path] = text
            lastIssue[path] = nil
            do {
                lastGood[path] = try Self.read(text: text, path: path)
            } catch {
                lastIssue[path] = error
                issues.append(error)
            }
        }
        for path in Array(lastGood.keys) where !seen.contains(path) {
            lastGood[path] = nil
        }
        for path in Array(lastText.keys) where !seen.contains(path) {
            lastText[path] = nil
            lastIssue[path] = nil
        }
        var merged = DynamicConfiguration()
        var origins: [ResourceKey: SourceLocation] = [:]
        for path in files {
            guard let content = lastGood[path] else { continue }
            Self.merge(content, into: &merged, origins: &origins, issues: &issues)
        }
        var snapshot = ProviderSnapshot(provider: provider, configuration: merged, origins: origins, issues: issues)
        snapshot.fileStamps = Self.stamps(of: Self.referencedFiles(in: merged))
        if let directory = options.directory {
            var isDirectory: ObjCBool = false
            snapshot.sourceUnavailable = !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory)
                || !isDirectory.boolValue
        }
        return snapshot
    }

    /// Files the configuration names by path (certificates, keys, CAs): a change to one of them is a change of the
    /// configuration, so a certificate replaced beside the configuration files serves the next handshake.
    static func referencedFiles(in configuration: DynamicConfiguration) -> [String] {
        guard let tls = configuration.tls else { return [] }
        var files: [String?] = []
        for certificate in tls.certificates ?? [] { files += [certificate.certFile, certificate.keyFile] }
        for store in (tls.stores ?? [:]).values {
            files += [store.defaultCertificate?.certFile, store.defaultCertificate?.keyFile]
        }
        for options in (tls.options ?? [:]).values { files += options.clientAuth?.caFiles ?? [] }
        return files.compactMap { $0 }.filter { !$0.contains("-----BEGIN") }
    }

    static func stamps(of files: [String]) -> [String: String] {
        var stamps: [String: String] = [:]
        for file in files {
            let attributes = try? FileManager.default.attributesOfItem(atPath: file)
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            stamps[file] = "\(modified):\(size)"
        }
        return stamps
    }

    static func read(text: String, path: String) throws(ConfigurationIssue) -> FileContent {
        let format = ConfigDocument.Format(fileName: path) ?? .yaml
        let node = try ConfigDocument.parse(text, source: path, format: format)
        let configuration = try ConfigNodeDecoder.decode(DynamicConfiguration.self, from: node)
        return FileContent(text: text, configuration: configuration, origins: origins(in: node))
    }

    /// The position of every resource's name in the document.
    static func origins(in root: ConfigNode) -> [ResourceKey: SourceLocation] {
        var origins: [ResourceKey: SourceLocation] = [:]
        for kind in ResourceKey.Kind.allCases {
            let path = kind.rawValue.split(separator: ".").map { $0.lowercased() }
            var node: ConfigNode? = root
            for part in path {
                guard case .mapping(let entries)? = node?.value else { node = nil; break }
                node = entries.first { $0.key.lowercased() == part }?.value
            }
            guard case .mapping(let entries)? = node?.value else { continue }
            for entry in entries {
                origins[ResourceKey(kind, entry.key)] = entry.keyLocation
                guard case .mapping(let fields) = entry.value.value else { continue }
                for field in fields {
                    origins[ResourceKey(kind, entry.key, field: field.key.lowercased())] = field.keyLocation
                }
            }
        }
        return origins
    }

    /// Adds one file's resources; a name another file already defined is skipped with a warning (first wins).
    static func merge(
        _ content: FileContent, into merged: inout DynamicConfiguration, origins: inout [ResourceKey: SourceLocation],
        issues: inout [ConfigurationIssue]
    ) {
        // The places of each resource's fields, found once (not by a scan of every place per resource).
        var fieldOrigins: [ResourceKey: [(ResourceKey, SourceLocation)]] = [:]
        for (key, location) in content.origins where key.field != nil {
            fieldOrigins[ResourceKey(key.kind, key.name), default: []].append((key, location))
        }
        func add<Value>(_ kind: ResourceKey.Kind, _ items: [String: Value]?, to target: inout [String: Value]?) {
            for (name, value) in (items ?? [:]).sorted(by: { $0.key < $1.key }) {
                let key = ResourceKey(kind, name)
                let location = content.origins[key] ?? SourceLocation(source: "file")
                if target?[name] != nil {
                    let first = origins[key].map { "\($0)" } ?? "another file"
                    issues.append(ConfigurationIssue(
                        .warning, at: location, keyPath: "\(kind.rawValue).\(name)",
                        message: "defined again; the definition at \(first) is used"))
                    continue
                }
                target = target ?? [:]
                target?[name] = value
                origins[key] = location
                for (fieldKey, fieldLocation) in fieldOrigins[key] ?? [] {
                    origins[fieldKey] = fieldLocation
                }
            }
        }
        let configuration = content.configuration
        if let http = configuration.http {
            var section = merged.http ?? HTTPConfiguration()
            add(.httpRouter, http.routers, to: &section.routers)
            add(.httpService, http.services, to: &section.services)
            add(.httpMiddleware, http.middlewares, to: &section.middlewares)
            add(.httpServersTransport, http.serversTransports, to: &section.serversTransports)
            merged.http = section
        }
        if let tcp = configuration.tcp {
            var section = merged.tcp ?? TCPConfiguration()
            add(.tcpRouter, tcp.routers, to: &section.routers)
            add(.tcpService, tcp.services, to: &section.services)
            add(.tcpMiddleware, tcp.middlewares, to: &section.middlewares)
            add(.tcpServersTransport, tcp.serversTransports, to: &section.serversTransports)
            merged.tcp = section
        }
        if let udp = configuration.udp {
            var section = merged.udp ?? UDPConfiguration()
            add(.udpRouter, udp.routers, to: &section.routers)
            add(.udpService, udp.services, to: &section.services)
            merged.udp = section
        }
        if let tls = configuration.tls {
            var section = merged.tls ?? TLSConfiguration()
            if let certificates = tls.certificates { section.certificates = (section.certificates ?? []) + certificates }
            add(.tlsOptions, tls.options, to: &section.options)
            add(.tlsStore, tls.stores, to: &section.stores)
            merged.tls = section
        }
    }
}
