import Foundation
import Logging
import SwitchyardConfig
import SwitchyardProviderKit

/// The file provider: dynamic configuration from a directory of YAML, TOML and JSON files (or one file), re-read
/// when anything in it changes.
public struct FileProvider: Provider {
    public let name = "file"
    public let options: FileProviderOptions
    private let logger: Logger

    public init(options: FileProviderOptions, logger: Logger = Logger(label: "switchyard.provider.file")) {
        self.options = options
        self.logger = logger
    }

    /// Reads the configuration once, without watching (for `switchyard check`).
    public func loadOnce() -> ProviderSnapshot {
        var loader = FileConfigurationLoader(options: options)
        return loader.load(provider: name)
    }

    public func run(sending updates: ProviderUpdates) async throws {
        var loader = FileConfigurationLoader(options: options)
        let watchRoot = options.directory ?? options.filename.map { ($0 as NSString).deletingLastPathComponent } ?? "."
        // Create the watch before the first read so no change falls between the two.
        let watcher = options.watch ? DirectoryWatcher(root: watchRoot.isEmpty ? "." : watchRoot) : nil
        await send(loader.load(provider: name), to: updates)
        guard options.watch else { return }
        if watcher == nil {
            logger.warning("inotify is not available; polling the files every 2s", metadata: ["path": "\(watchRoot)"])
        }
        while !Task.isCancelled {
            if let watcher {
                try await watcher.waitForChange()
            } else {
                try await Task.sleep(for: .seconds(2))
            }
            await send(loader.load(provider: name), to: updates)
        }
    }

    private func send(_ snapshot: ProviderSnapshot, to updates: ProviderUpdates) async {
        for issue in snapshot.issues {
            switch issue.severity {
            case .error: logger.error("\(issue.description)", metadata: ["provider": "file"])
            case .warning: logger.warning("\(issue.description)", metadata: ["provider": "file"])
            }
        }
        await updates.send(snapshot)
    }
}
