/// Configuration written as dotted keys, one value each: flags (`--entryPoints.web.address=:80`), environment
/// variables and container labels (`http.routers.app.rule=...`). Builds the same `ConfigNode` tree a file would give,
/// each value keeping its own source so errors name the flag or label.
public enum FlatKeyTree {
    /// Splits `http.routers.app.tls.domains[0].main` into its segments; `[n]` is a segment of its own. Nil when a
    /// segment is empty or an index is malformed.
    public static func segments(of key: String) -> [String]? {
        var result: [String] = []
        for part in key.split(separator: ".", omittingEmptySubsequences: false) {
            var name = Substring(part)
            var indexes: [String] = []
            while name.hasSuffix("]"), let open = name.lastIndex(of: "[") {
                let digits = name[name.index(after: open)..<name.index(before: name.endIndex)]
                guard !digits.isEmpty, digits.allSatisfy(\.isASCII), Int(digits) != nil else { return nil }
                indexes.insert("[\(Int(digits)!)]", at: 0)
                name = name[..<open]
            }
            guard !name.isEmpty, !name.contains("["), !name.contains("]") else { return nil }
            result.append(String(name))
            result.append(contentsOf: indexes)
        }
        return result
    }

    /// The tree holding one value at `path`.
    public static func tree(_ path: [String], _ value: String, _ location: SourceLocation) -> ConfigNode {
        var node = ConfigNode(.scalar(value), at: location)
        for key in path.reversed() {
            node = ConfigNode(.mapping([ConfigNode.Entry(key: key, keyLocation: location, value: node)]), at: location)
        }
        return node
    }

    /// Overlays `top` on `base`: mappings merge key by key (letter case ignored), anything else is replaced. A
    /// section switched on with `true` and then given options keeps the options (`--ping` then `--ping.entryPoint=x`,
    /// `routers.r.tls=true` beside `routers.r.tls.certResolver=le`).
    public static func merge(_ base: ConfigNode, _ top: ConfigNode) -> ConfigNode {
        guard case .mapping(var entries) = base.value, case .mapping(let overlay) = top.value else {
            if case .mapping = top.value, case .scalar(let text) = base.value, text.lowercased() == "true" {
                return top
            }
            if case .mapping = base.value, case .scalar(let text) = top.value, text.lowercased() == "true" {
                return base
            }
            return top
        }
        for entry in overlay {
            if let index = entries.firstIndex(where: { $0.key.lowercased() == entry.key.lowercased() }) {
                entries[index].value = merge(entries[index].value, entry.value)
            } else {
                entries.append(entry)
            }
        }
        return ConfigNode(.mapping(entries), at: base.location)
    }

    /// Mappings whose keys are all `[n]` become lists, in index order.
    public static func resolvingIndexes(_ node: ConfigNode) -> ConfigNode {
        guard case .mapping(let entries) = node.value else { return node }
        let resolved = entries.map { ConfigNode.Entry(key: $0.key, keyLocation: $0.keyLocation, value: resolvingIndexes($0.value)) }
        let indexes = resolved.compactMap { entry -> Int? in
            guard entry.key.hasPrefix("["), entry.key.hasSuffix("]") else { return nil }
            return Int(entry.key.dropFirst().dropLast())
        }
        if !resolved.isEmpty, indexes.count == resolved.count {
            let items = zip(indexes, resolved).sorted { $0.0 < $1.0 }.map(\.1.value)
            return ConfigNode(.sequence(items), at: node.location)
        }
        return ConfigNode(.mapping(resolved), at: node.location)
    }
}
