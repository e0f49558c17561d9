import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SwitchyardRouting
import SwitchyardStore

/// `/api/history` (the newest versions, without their configuration) and `/api/history/{version}` (one, whole).
enum HistoryAnswer {
    static func answer(_ history: SwitchyardStore, version: String?) throws -> InternalResponse {
        let formatter = ISO8601DateFormatter()
        func summary(_ entry: SwitchyardStore.Version) -> [String: Any] {
            ["version": entry.number, "created": formatter.string(from: entry.created), "changed": entry.changed,
             "routers": entry.routers, "errors": entry.errors]
        }
        let object: Any
        if let version {
            guard let number = Int64(version), let entry = try history.version(number) else {
                return APIService.text(.notFound, "no version \(version) in the history\n")
            }
            var whole = summary(entry)
            whole["configuration"] = try JSONSerialization.jsonObject(with: entry.configuration)
            whole["issues"] = try JSONSerialization.jsonObject(with: entry.issues)
            object = whole
        } else {
            object = try history.versions(limit: 500).map(summary)
        }
        return try json(object)
    }

    static func json(_ object: Any) throws -> InternalResponse {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        return InternalResponse(status: .ok, headers: headers, body: ByteBuffer(data: data))
    }

    /// The resources a section of the configuration holds, by dotted section name.
    static let sections = [
        "http.routers", "http.services", "http.middlewares", "http.serversTransports", "tcp.routers", "tcp.services",
        "tcp.middlewares", "udp.routers", "udp.services", "tls.options", "tls.stores",
    ]

    /// `/api/history/{version}/diff`: what changed from the version kept before it, resource by resource: added,
    /// removed, or changed with the dotted paths of the options that differ.
    static func diff(_ history: SwitchyardStore, version: String) throws -> InternalResponse {
        guard let number = Int64(version), let entry = try history.version(number) else {
            return APIService.text(.notFound, "no version \(version) in the history\n")
        }
        let previous = try history.version(before: number)
        let new = try JSONSerialization.jsonObject(with: entry.configuration) as? [String: Any] ?? [:]
        let old = try previous.map { try JSONSerialization.jsonObject(with: $0.configuration) as? [String: Any] ?? [:] } ?? [:]
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
        let certificatesBefore = (lookup(old, ["tls", "certificates"]) as? [Any])?.count ?? 0
        let certificatesAfter = (lookup(new, ["tls", "certificates"]) as? [Any])?.count ?? 0
        var object: [String: Any] = [
            "version": number, "changed": entry.changed, "changes": changes,
            "certificates": ["before": certificatesBefore, "after": certificatesAfter],
        ]
        if let previous { object["previous"] = previous.number }
        return try json(object)
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
