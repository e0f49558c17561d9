import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SwitchyardConfig
import SwitchyardRouting
import SwitchyardStore

/// `/api/history` (the newest versions, without their configuration) and `/api/history/{version}` (one, whole).
enum HistoryAnswer {
    static func answer(_ history: SwitchyardStore, version: String?) throws -> InternalResponse {
        func summary(_ entry: SwitchyardStore.Version) -> [String: Any] {
            ["version": entry.number, "created": InternetTime.rfc3339(entry.created.timeIntervalSince1970), "changed": entry.changed,
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

    /// `/api/history/{version}/diff`: what changed from the version kept before it (recorded with the version;
    /// computed now for versions recorded before diffs were).
    static func diff(_ history: SwitchyardStore, version: String) throws -> InternalResponse {
        guard let number = Int64(version), let entry = try history.version(number) else {
            return APIService.text(.notFound, "no version \(version) in the history\n")
        }
        let previous = try history.version(before: number)
        let diff = try entry.diff ?? ConfigurationDiff.between(previous?.configuration, entry.configuration)
        var object = try JSONSerialization.jsonObject(with: diff) as? [String: Any] ?? [:]
        object["version"] = number
        object["changed"] = entry.changed
        if let previous { object["previous"] = previous.number }
        return try json(object)
    }
}
