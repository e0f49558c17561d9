import Foundation
import Logging
import SwitchyardConfig

/// Loading and checking the static configuration, shared by the commands.
enum Startup {
    static func settings(arguments: [String]) -> (StaticConfigurationLoader.Loaded, RuntimeSettings)? {
        do {
            let loader = StaticConfigurationLoader(arguments: arguments, environment: ProcessInfo.processInfo.environment)
            let loaded = try loader.load()
            return (loaded, try RuntimeSettings.resolve(loaded))
        } catch {
            FileHandle.standardError.write(Data("switchyard: configuration error: \(error.description)\n".utf8))
            return nil
        }
    }

    static func bootstrapLogging(_ settings: RuntimeSettings) {
        LoggingSystem.bootstrap { label in
            SwitchyardLogHandler(label: label, json: settings.logFormat == .json, logLevel: settings.logLevel)
        }
    }
}
