import SwitchyardConfig

/// `providers.docker` in the static configuration, with Traefik's defaults.
public struct DockerProviderOptions: Sendable {
    /// `unix:///var/run/docker.sock`, `tcp://HOST:PORT` or `http(s)://HOST:PORT`.
    public var endpoint: String = "unix:///var/run/docker.sock"
    /// TLS to a `tcp://` endpoint (a remote Engine or a socket proxy): CA, client certificate and key files.
    public var tls: TLS?
    /// Containers without `<prefix>.enable` are served (true), or only those with `enable=true` (false).
    public var exposedByDefault = true
    /// The network to reach containers on when their labels name none.
    public var network: String?
    /// Reach containers on the host address and port their port is published on.
    public var useBindPortIP = false
    /// The rule of routers the labels give none.
    public var defaultRule: DefaultRuleTemplate
    /// Which containers to consider at all.
    public var constraints: LabelConstraint?
    /// Follow the Engine's events (true), or only poll.
    public var watch = true
    /// How often to list the containers again, so that a missed event heals.
    public var pollInterval: Duration = .seconds(15)
    /// Keep services of unhealthy or starting containers, with no servers (503 rather than 404).
    public var allowEmptyServices = false
    /// Read `traefik.*` labels beside `switchyard.*` ones.
    public var traefikLabels = true
    /// Timeout of one Engine API call (not of the event stream); nil for none.
    public var httpClientTimeout: Duration? = .seconds(30)

    public struct TLS: Sendable, Hashable {
        public var ca: String?
        public var cert: String?
        public var key: String?

        public init(ca: String? = nil, cert: String? = nil, key: String? = nil) {
            self.ca = ca
            self.cert = cert
            self.key = key
        }
    }

    public init() {
        // The built-in default rule always parses.
        self.defaultRule = try! DefaultRuleTemplate(DefaultRuleTemplate.traefikDefault)
    }
}
