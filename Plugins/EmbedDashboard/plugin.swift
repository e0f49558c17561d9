import Foundation
import PackagePlugin

/// Embeds the files under `dashboard/` into the `SwitchyardDashboard` target, so the binary carries its dashboard.
@main
struct EmbedDashboard: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let folder = context.package.directoryURL.appending(path: "dashboard")
        let output = context.pluginWorkDirectoryURL.appending(path: "DashboardAssets.swift")
        var inputs: [URL] = []
        if let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
                inputs.append(url)
            }
        }
        return [
            .buildCommand(
                displayName: "Embedding the dashboard (\(inputs.count) files)",
                executable: try context.tool(named: "DashboardEmbedder").url,
                arguments: [folder.path, output.path],
                inputFiles: inputs.sorted { $0.path < $1.path },
                outputFiles: [output])
        ]
    }
}
