import SwitchyardConfig

/// The servers behind a Service port: the ready endpoints of its EndpointSlices on the slice port of the same name,
/// or its external name. Shared by the Ingress and CRD providers.
struct ServiceServers {
    var services: [String: Service]
    var slices: [EndpointSlice]

    struct Failure: Error {
        /// The field of the reference that is wrong (`name` or `port`).
        var field: String
        var message: String
    }

    /// The servers of `namespace/name` on `port` (a number or a port name; nil when the Service has one port), and
    /// the label the port is named by (`80`, `http`).
    func servers(namespace: String, name: String, port wanted: IntOrString?, scheme: String? = nil) throws(Failure) -> (servers: [LoadBalancerServer], portLabel: String) {
        guard let service = services["\(namespace)/\(name)"] else {
            throw Failure(field: "name", message: "the Service \(namespace)/\(name) does not exist")
        }
        let ports = service.spec?.ports ?? []
        let port: Service.Port?
        let label: String
        switch wanted {
        case .int(let number)?:
            port = ports.first { $0.port == number }
            label = String(number)
        case .string(let portName)?:
            port = ports.first { $0.name == portName } ?? Int(portName).flatMap { number in ports.first { $0.port == number } }
            label = portName
        case nil:
            port = ports.count == 1 ? ports.first : nil
            label = port.map { String($0.port) } ?? ""
        }
        if service.spec?.type == "ExternalName", let external = service.spec?.externalName {
            let number = port?.port ?? wanted.flatMap { if case .int(let n) = $0 { n } else { nil } } ?? 80
            return ([LoadBalancerServer(url: "\(scheme ?? Self.scheme(port, number))://\(external):\(number)")], label)
        }
        guard let port else {
            throw Failure(
                field: "port", message: "the Service \(namespace)/\(name) has no port \(label.isEmpty ? "(give one)" : label)")
        }
        var servers: [LoadBalancerServer] = []
        for slice in slices where slice.metadata.namespace == namespace && slice.serviceName == name {
            guard let target = slice.ports?.first(where: { ($0.name ?? "") == (port.name ?? "") })?.port else { continue }
            for endpoint in slice.endpoints ?? [] where endpoint.conditions?.ready ?? true {
                for address in endpoint.addresses {
                    let host = address.contains(":") ? "[\(address)]" : address
                    servers.append(LoadBalancerServer(url: "\(scheme ?? Self.scheme(port, target))://\(host):\(target)"))
                }
            }
        }
        return (servers.sorted { ($0.url ?? "") < ($1.url ?? "") }, label)
    }

    /// `https` for a port named `https` or numbered 443, as Traefik decides.
    static func scheme(_ port: Service.Port?, _ number: Int) -> String {
        port?.name == "https" || number == 443 || port?.port == 443 ? "https" : "http"
    }
}
