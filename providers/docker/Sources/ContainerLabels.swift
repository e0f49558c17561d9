import SwitchyardConfig

/// A container's configuration labels: those under `switchyard.` and (unless switched off) `traefik.`, with the
/// prefix removed. Where both prefixes set the same key, `switchyard.` wins. Keys compare without letter case.
struct ContainerLabels {
    struct Label {
        /// The key without its prefix, e.g. `http.routers.app.rule`.
        var key: String
        var value: String
        /// The label as written on the container, for messages.
        var label: String
    }

    static let prefixes = ["switchyard.", "traefik."]

    let container: String
    private(set) var labels: [Label] = []
    private var byKey: [String: Int] = [:]

    init(container: String, labels: [String: String], traefikLabels: Bool) {
        self.container = container
        // Sorted so the result does not depend on the order the Engine lists labels in; switchyard. before traefik.
        for prefix in Self.prefixes where prefix != "traefik." || traefikLabels {
            for (label, value) in labels.sorted(by: { $0.key < $1.key })
            where label.count > prefix.count && label.lowercased().hasPrefix(prefix) {
                let key = String(label.dropFirst(prefix.count))
                let lower = key.lowercased()
                if byKey[lower] != nil { continue }
                byKey[lower] = self.labels.count
                self.labels.append(Label(key: key, value: value, label: label))
            }
        }
    }

    subscript(key: String) -> Label? {
        byKey[key.lowercased()].map { labels[$0] }
    }

    func location(of label: Label) -> SourceLocation {
        SourceLocation(source: "container \(container) label \(label.label)")
    }

    var containerLocation: SourceLocation { SourceLocation(source: "container \(container)") }

    /// `true`/`false` labels; a bad value is an error naming the label.
    func flag(_ key: String) throws(ConfigurationIssue) -> Bool? {
        guard let label = self[key] else { return nil }
        switch label.value.lowercased() {
        case "true": return true
        case "false": return false
        default:
            throw ConfigurationIssue(at: location(of: label), message: "expected true or false, found '\(label.value)'")
        }
    }

    /// The configuration tree of the labels under `http.`, `tcp.`, `udp.` and `tls.`; other keys are reported.
    func configurationTree(issues: inout [ConfigurationIssue]) -> ConfigNode {
        var root = ConfigNode(.mapping([]), at: containerLocation)
        for label in labels {
            let lower = label.key.lowercased()
            if lower == "enable" || lower.hasPrefix("docker.") { continue }
            guard let segments = FlatKeyTree.segments(of: label.key) else {
                issues.append(ConfigurationIssue(
                    at: location(of: label), message: "'\(label.label)' is not a valid key (an empty part or a bad [index])"))
                continue
            }
            guard ["http", "tcp", "udp", "tls"].contains(segments[0].lowercased()) else {
                var message = "unknown label '\(label.label)'; labels start with http., tcp., udp., tls., enable or docker."
                if let suggestion = ["http", "tcp", "udp", "tls", "enable", "docker"]
                    .first(where: { editDistance(segments[0].lowercased(), $0) <= 1 })
                {
                    message += "; did you mean '\(suggestion)'?"
                }
                issues.append(ConfigurationIssue(at: location(of: label), message: message))
                continue
            }
            root = FlatKeyTree.merge(root, FlatKeyTree.tree(segments, label.value, location(of: label)))
        }
        return FlatKeyTree.resolvingIndexes(root)
    }
}

extension ConfigNode {
    /// The entry under `key` of a mapping, letter case ignored.
    func entry(_ key: String) -> ConfigNode.Entry? {
        guard case .mapping(let entries) = value else { return nil }
        return entries.first { $0.key.lowercased() == key.lowercased() }
    }

    /// The mapping without the entry under `key`.
    func removing(_ key: String) -> ConfigNode {
        guard case .mapping(let entries) = value else { return self }
        return ConfigNode(.mapping(entries.filter { $0.key.lowercased() != key.lowercased() }), at: location)
    }

    /// The entries of a mapping; nothing for other nodes.
    var entries: [ConfigNode.Entry] {
        if case .mapping(let entries) = value { return entries }
        return []
    }
}
