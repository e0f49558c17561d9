import Foundation

/// What changed between two merged configurations (as JSON), resource by resource: each router, service,
/// middleware, transport, TCP/UDP resource, TLS option or store added, removed, or changed with the dotted paths of
/// the options that differ; and the number of certificates before and after.
public enum ConfigurationDiff {
    /// The sections of the configuration that hold named resources.
    static let sections = [
        "http.routers", "http.services", "http.middlewares", "http.serversTransports", "tcp.routers", "tcp.services",
        "tcp.middlewares", "udp.routers", "udp.services", "tls.options", "tls.stores",
    ]

    /// `{"changes": [{"kind", "name", "change", "fields"?}], "certificates": {"before", "after"}}` as JSON.
    public static func between(_ oldJSON: Data?, _ newJSON: Data) throws -> Data {
        let new = try JSONSerialization.jsonObject(with: newJSON) as? [String: Any] ?? [:]
        let old = try oldJSON.map { try JSONSerialization.jsonObject(with: $0) as? [String: Any] ?? [:] } ?? [:]
        var changes: [[String: Any]] = []
        for section in sections {
            let path = section.split(separator: ".").map(String.init)
            let before = lookup(old, path) as? [String: Any] ?? [:]
            let after = lookup(new, path) as? [String: Any] ?? [:]
            for name in Set(before.keys).union(after.keys).sorted() {
                switch (before[name], after[name]) {
                case (nil, _?): changes.append(["kind": section, "name": name, "change": "added"])
                case (_?, nil): changes.append(["kind": section, "name": name, "change": "removed"])
                case (let was?, let now?):
                    var fields: [String] = []
                    differences(was, now, path: "", into: &fields)
                    if !fields.isEmpty { changes.append(["kind": section, "name": name, "change": "changed", "fields": fields]) }
                default: break
                }
            }
        }
        let certificates = [
            "before": (lookup(old, ["tls", "certificates"]) as? [Any])?.count ?? 0,
            "after": (lookup(new, ["tls", "certificates"]) as? [Any])?.count ?? 0,
        ]
        return try JSONSerialization.data(
            withJSONObject: ["changes": changes, "certificates": certificates] as [String: Any], options: [.sortedKeys])
    }

    static func lookup(_ object: [String: Any], _ path: [String]) -> Any? {
        var current: Any? = object
        for key in path { current = (current as? [String: Any])?[key] }
        return current
    }

    /// The dotted paths where two decoded JSON values differ (lists compared whole).
    static func differences(_ a: Any, _ b: Any, path: String, into fields: inout [String]) {
        if let left = a as? [String: Any], let right = b as? [String: Any] {
            for key in Set(left.keys).union(right.keys).sorted() {
                let child = path.isEmpty ? key : "\(path).\(key)"
                switch (left[key], right[key]) {
                case (let x?, let y?): differences(x, y, path: child, into: &fields)
                case (nil, nil): break
                default: fields.append(child)
                }
            }
            return
        }
        let same = (try? JSONSerialization.data(withJSONObject: [a], options: [.sortedKeys]))
            == (try? JSONSerialization.data(withJSONObject: [b], options: [.sortedKeys]))
        if !same { fields.append(path) }
    }
}
