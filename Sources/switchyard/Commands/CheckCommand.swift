import Foundation
import SwitchyardConfig
import SwitchyardFileProvider
import SwitchyardProviderKit
import SwitchyardRouting

/// `switchyard check`: loads the configuration once, prints every error and warning with its source, and exits 1
/// when there is an error.
enum CheckCommand {
    static func run(arguments: [String]) -> Int32 {
        guard let (loaded, settings) = Startup.settings(arguments: arguments) else { return 1 }
        print("static configuration from \(loaded.sources.joined(separator: ", ")): OK")
        var snapshots: [ProviderSnapshot] = []
        if let options = settings.fileProvider {
            snapshots.append(FileProvider(options: options).loadOnce())
        }
        let merged = ConfigurationMerger.merge(snapshots)
        let compiler = RoutingTableCompiler(entryPoints: settings.entryPoints.map(\.name), defaultEntryPoints: settings.defaultEntryPoints)
        let table = compiler.compile(merged, version: 1)
        let issues = table.status.issues
        for issue in issues {
            print("\(issue.severity == .error ? "error" : "warning"): \(issue.description)")
        }
        let errors = issues.filter { $0.severity == .error }.count
        let routers = table.status.routers.values
        print(
            "\(routers.filter { $0.status != .disabled }.count) routers enabled, \(routers.filter { $0.status == .disabled }.count) disabled; "
                + "\(errors) errors, \(issues.count - errors) warnings")
        return errors > 0 ? 1 : 0
    }
}
