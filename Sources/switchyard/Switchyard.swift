import Foundation

/// `switchyard [flags]` runs the proxy; `switchyard check [flags]` validates the configuration;
/// `switchyard whoami --address HOST:PORT [--name NAME]` runs an echo backend; `switchyard version`.
@main
struct Switchyard {
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--version" { arguments[0] = "version" }
        let command = arguments.first.flatMap { $0.hasPrefix("-") ? nil : $0 }
        if command != nil { arguments.removeFirst() }
        let code: Int32
        switch command {
        case nil: code = await ProxyCommand.run(arguments: arguments)
        case "check": code = CheckCommand.run(arguments: arguments)
        case "whoami": code = await WhoamiCommand.run(arguments: arguments)
        case "version": print("switchyard \(SwitchyardVersion.current)"); code = 0
        case "help", "--help", "-h": print(usage); code = 0
        case let other?:
            FileHandle.standardError.write(Data("switchyard: unknown command '\(other)'\n\n\(usage)\n".utf8))
            code = 2
        }
        exit(code)
    }

    static let usage = """
        usage:
          switchyard [--configFile=FILE] [--entryPoints.NAME.address=:PORT] [--providers.file.directory=DIR] ...
          switchyard check [same flags]      load the configuration once, print every error, exit 1 if any
          switchyard whoami --address HOST:PORT [--name NAME]
          switchyard version
        Static options use Traefik's names, as flags, SWITCHYARD_* environment variables or a YAML/TOML file.
        """
}

enum SwitchyardVersion {
    static let current = "0.1.0"
}

enum WhoamiCommand {
    static func run(arguments: [String]) async -> Int32 {
        var address = "127.0.0.1:9001"
        var name = ProcessInfo.processInfo.hostName
        var index = 0
        while index < arguments.count {
            var argument = arguments[index]
            var value: String?
            if let equals = argument.firstIndex(of: "=") {
                value = String(argument[argument.index(after: equals)...])
                argument = String(argument[..<equals])
            } else if index + 1 < arguments.count {
                index += 1
                value = arguments[index]
            }
            index += 1
            switch (argument, value) {
            case ("--address", let v?): address = v
            case ("--name", let v?): name = v
            default:
                FileHandle.standardError.write(Data("whoami: unknown or incomplete option '\(argument)'\n".utf8))
                return 2
            }
        }
        do {
            let (host, port) = try RuntimeSettings.parseAddress(address, key: "--address")
            try await WhoamiServer.run(host: host == "::" ? "0.0.0.0" : host, port: port, name: name)
            return 0
        } catch {
            FileHandle.standardError.write(Data("whoami: \(error)\n".utf8))
            return 1
        }
    }
}
