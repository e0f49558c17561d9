import Foundation

/// What the provider knows of one container, read from the Engine's `GET /containers/{id}/json`.
public struct DockerContainer: Sendable, Hashable {
    public struct Network: Sendable, Hashable {
        public var ipAddress: String
        public var globalIPv6Address: String

        public init(ipAddress: String, globalIPv6Address: String = "") {
            self.ipAddress = ipAddress
            self.globalIPv6Address = globalIPv6Address
        }
    }

    /// An exposed port and where the host publishes it.
    public struct Port: Sendable, Hashable, Comparable {
        public var number: Int
        public var proto: String
        public var bindings: [Binding]

        public struct Binding: Sendable, Hashable {
            public var hostIP: String
            public var hostPort: String

            public init(hostIP: String, hostPort: String) {
                self.hostIP = hostIP
                self.hostPort = hostPort
            }
        }

        public init(number: Int, proto: String = "tcp", bindings: [Binding] = []) {
            self.number = number
            self.proto = proto
            self.bindings = bindings
        }

        public static func < (lhs: Port, rhs: Port) -> Bool { (lhs.number, lhs.proto) < (rhs.number, rhs.proto) }
    }

    public var id: String
    /// Without the leading `/`.
    public var name: String
    public var labels: [String: String]
    /// `running`, `exited`, `paused`, ...
    public var state: String
    /// `starting`, `healthy`, `unhealthy`; nil without a health check.
    public var health: String?
    /// `default`, `bridge`, `host`, `none`, `container:<id>` or a network name.
    public var networkMode: String
    public var networks: [String: Network]
    /// From `NetworkSettings.Ports`, and from `Config.ExposedPorts` for those (host network) not listed there.
    public var ports: [Port]

    public init(
        id: String, name: String, labels: [String: String] = [:], state: String = "running", health: String? = nil,
        networkMode: String = "bridge", networks: [String: Network] = [:], ports: [Port] = []
    ) {
        self.id = id
        self.name = name
        self.labels = labels
        self.state = state
        self.health = health
        self.networkMode = networkMode
        self.networks = networks
        self.ports = ports.sorted()
    }

    /// Reads an inspect response.
    public init(inspectJSON data: Data) throws {
        let inspect = try JSONDecoder().decode(Inspect.self, from: data)
        var ports: [Int: Port] = [:]
        func add(_ key: String, _ bindings: [Inspect.Binding]?) {
            let parts = key.split(separator: "/")
            guard let number = parts.first.flatMap({ Int($0) }) else { return }
            let proto = parts.count > 1 ? String(parts[1]) : "tcp"
            guard proto == "tcp" || ports[number] == nil else { return }
            var port = ports[number] ?? Port(number: number, proto: proto)
            port.bindings += (bindings ?? []).map { Port.Binding(hostIP: $0.HostIp ?? "", hostPort: $0.HostPort ?? "") }
            ports[number] = port
        }
        for (key, bindings) in inspect.NetworkSettings?.Ports ?? [:] { add(key, bindings) }
        for key in (inspect.Config?.ExposedPorts ?? [:]).keys { add(key, nil) }
        self.init(
            id: inspect.Id,
            name: String((inspect.Name ?? inspect.Id).drop(while: { $0 == "/" })),
            labels: inspect.Config?.Labels ?? [:],
            state: inspect.State?.Status ?? "unknown",
            health: inspect.State?.Health?.Status.flatMap { $0 == "none" ? nil : $0 },
            networkMode: inspect.HostConfig?.NetworkMode ?? "default",
            networks: (inspect.NetworkSettings?.Networks ?? [:]).mapValues {
                Network(ipAddress: $0?.IPAddress ?? "", globalIPv6Address: $0?.GlobalIPv6Address ?? "")
            },
            ports: Array(ports.values))
    }

    private struct Inspect: Decodable {
        struct State: Decodable {
            struct Health: Decodable { var Status: String? }
            var Status: String?
            var Health: Health?
        }
        struct Config: Decodable {
            var Labels: [String: String]?
            var ExposedPorts: [String: Empty]?
        }
        struct Empty: Decodable {}
        struct HostConfig: Decodable { var NetworkMode: String? }
        struct Binding: Decodable {
            var HostIp: String?
            var HostPort: String?
        }
        struct Endpoint: Decodable {
            var IPAddress: String?
            var GlobalIPv6Address: String?
        }
        struct NetworkSettings: Decodable {
            var Ports: [String: [Binding]?]?
            var Networks: [String: Endpoint?]?
        }
        var Id: String
        var Name: String?
        var State: State?
        var Config: Config?
        var HostConfig: HostConfig?
        var NetworkSettings: NetworkSettings?
    }
}
