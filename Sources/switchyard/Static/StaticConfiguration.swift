import SwitchyardConfig

/// The static (install) configuration, with Traefik's names. Read once at start.
struct StaticConfiguration: Sendable, Hashable, Codable, ConfigModel {
    var global: GlobalOptions?
    var entryPoints: [String: EntryPointOptions]?
    var providers: ProvidersOptions?
    var api: APIOptions?
    var ping: PingOptions?
    var log: LogOptions?
    var lifeCycle: LifeCycleOptions?
    var serversTransport: StaticServersTransport?
    var certificatesResolvers: [String: CertificatesResolverOptions]?
    var history: HistoryOptions?
    var metrics: MetricsOptions?
    var accessLog: AccessLogOptions?
}

/// `metrics.prometheus`: Traefik's metric set on `/metrics`.
struct MetricsOptions: Sendable, Hashable, Codable, ConfigModel {
    var prometheus: PrometheusOptions?
}

struct PrometheusOptions: Sendable, Hashable, Codable, ConfigModel {
    var buckets: [Double]?
    var addEntryPointsLabels: Bool?
    var addRoutersLabels: Bool?
    var addServicesLabels: Bool?
    var entryPoint: String?
    var manualRouting: Bool?
}

/// `accessLog`: one line per request.
struct AccessLogOptions: Sendable, Hashable, Codable, ConfigModel {
    var filePath: String?
    var format: String?
    var bufferingSize: Int?
    var filters: AccessLogFilters?
    var fields: AccessLogFields?
}

struct AccessLogFilters: Sendable, Hashable, Codable, ConfigModel {
    var statusCodes: [String]?
    var retryAttempts: Bool?
    var minDuration: ConfigDuration?
}

struct AccessLogFields: Sendable, Hashable, Codable, ConfigModel {
    var defaultMode: String?
    var names: [String: String]?
    var headers: AccessLogHeaders?
}

struct AccessLogHeaders: Sendable, Hashable, Codable, ConfigModel {
    var defaultMode: String?
    var names: [String: String]?
}

struct CertificatesResolverOptions: Sendable, Hashable, Codable, ConfigModel {
    var acme: ACMEStaticOptions?
}

struct ACMEStaticOptions: Sendable, Hashable, Codable, ConfigModel {
    var email: String?
    var caServer: String?
    var caCertificates: [String]?
    /// Traefik's acme.json: read on first start (not written).
    var storage: String?
    var keyType: String?
    var certificatesDuration: Int?
    var httpChallenge: ACMEHTTPChallenge?
    var tlsChallenge: ACMETLSChallenge?
}

struct ACMEHTTPChallenge: Sendable, Hashable, Codable, ConfigModel {
    var entryPoint: String?
}

struct ACMETLSChallenge: Sendable, Hashable, Codable, ConfigModel {}

/// `history`: the SQLite store beside the static configuration.
struct HistoryOptions: Sendable, Hashable, Codable, ConfigModel {
    var path: String?
    var keep: Int?
}

struct GlobalOptions: Sendable, Hashable, Codable, ConfigModel {
    var checkNewVersion: Bool?
    var sendAnonymousUsage: Bool?
}

struct EntryPointOptions: Sendable, Hashable, Codable, ConfigModel {
    var address: String?
    var asDefault: Bool?
    var transport: EntryPointTransport?
    var http: EntryPointHTTPOptions?
    var forwardedHeaders: ForwardedHeadersOptions?
    var proxyProtocol: ForwardedHeadersOptions?
    var http2: EntryPointHTTP2Options?
}

struct EntryPointHTTP2Options: Sendable, Hashable, Codable, ConfigModel {
    var maxConcurrentStreams: Int?
}

/// `entryPoints.<name>.http`: what every router on the entry point gets.
struct EntryPointHTTPOptions: Sendable, Hashable, Codable, ConfigModel {
    var redirections: EntryPointRedirections?
    var middlewares: [String]?
    var tls: RouterTLS?
    var sanitizePath: Bool?
    var encodedCharacters: EncodedCharactersMiddleware?
    var maxHeaderCount: Int?
}

struct EntryPointRedirections: Sendable, Hashable, Codable, ConfigModel {
    var entryPoint: EntryPointRedirection?
}

struct EntryPointRedirection: Sendable, Hashable, Codable, ConfigModel {
    var to: String?
    var scheme: String?
    var permanent: Bool?
    var priority: Int?
}

/// `trustedIPs` and `insecure`, as `forwardedHeaders` and `proxyProtocol` take them.
struct ForwardedHeadersOptions: Sendable, Hashable, Codable, ConfigModel {
    var trustedIPs: [String]?
    var insecure: Bool?
}

struct EntryPointTransport: Sendable, Hashable, Codable, ConfigModel {
    var lifeCycle: LifeCycleOptions?
    var respondingTimeouts: RespondingTimeouts?
}

struct RespondingTimeouts: Sendable, Hashable, Codable, ConfigModel {
    var readTimeout: ConfigDuration?
    var writeTimeout: ConfigDuration?
    var idleTimeout: ConfigDuration?
}

struct LifeCycleOptions: Sendable, Hashable, Codable, ConfigModel {
    var graceTimeOut: ConfigDuration?
    var requestAcceptGraceTimeout: ConfigDuration?
}

struct ProvidersOptions: Sendable, Hashable, Codable, ConfigModel {
    var providersThrottleDuration: ConfigDuration?
    var file: FileProviderStaticOptions?
    var docker: DockerProviderStaticOptions?
    var kubernetesIngress: KubernetesIngressStaticOptions?
    var kubernetesCRD: KubernetesCRDStaticOptions?
    var kubernetesGateway: KubernetesGatewayStaticOptions?
}

/// `providers.kubernetesGateway`, with Traefik's names.
struct KubernetesGatewayStaticOptions: Sendable, Hashable, Codable, ConfigModel {
    var endpoint: String?
    var token: String?
    var certAuthFilePath: String?
    var namespaces: [String]?
    var labelSelector: String?
    var throttleDuration: ConfigDuration?
}

/// `providers.kubernetesCRD`, with Traefik's names.
struct KubernetesCRDStaticOptions: Sendable, Hashable, Codable, ConfigModel {
    var endpoint: String?
    var token: String?
    var certAuthFilePath: String?
    var namespaces: [String]?
    var labelSelector: String?
    var allowCrossNamespace: Bool?
    var throttleDuration: ConfigDuration?
}

/// `providers.kubernetesIngress`, with Traefik's names.
struct KubernetesIngressStaticOptions: Sendable, Hashable, Codable, ConfigModel {
    var endpoint: String?
    var token: String?
    var certAuthFilePath: String?
    var namespaces: [String]?
    var labelSelector: String?
    var ingressClass: String?
    var throttleDuration: ConfigDuration?
    var ingressEndpoint: IngressEndpointOptions?
}

/// `providers.kubernetesIngress.ingressEndpoint`: what the Ingresses' status says they are reached at.
struct IngressEndpointOptions: Sendable, Hashable, Codable, ConfigModel {
    var ip: String?
    var hostname: String?
}

struct DockerProviderStaticOptions: Sendable, Hashable, Codable, ConfigModel {
    var endpoint: String?
    var tls: DockerTLSOptions?
    var exposedByDefault: Bool?
    var network: String?
    var useBindPortIP: Bool?
    var defaultRule: String?
    var constraints: String?
    var watch: Bool?
    var pollInterval: ConfigDuration?
    var allowEmptyServices: Bool?
    var traefikLabels: Bool?
    var httpClientTimeout: ConfigDuration?
}

struct DockerTLSOptions: Sendable, Hashable, Codable, ConfigModel {
    var ca: String?
    var cert: String?
    var key: String?
}

struct FileProviderStaticOptions: Sendable, Hashable, Codable, ConfigModel {
    var directory: String?
    var filename: String?
    var watch: Bool?
    var debugLogGeneratedTemplate: Bool?
}

struct APIOptions: Sendable, Hashable, Codable, ConfigModel {
    var insecure: Bool?
    var dashboard: Bool?
    var debug: Bool?
}

struct PingOptions: Sendable, Hashable, Codable, ConfigModel {
    var entryPoint: String?
    var manualRouting: Bool?
    var terminatingStatusCode: Int?
}

struct LogOptions: Sendable, Hashable, Codable, ConfigModel {
    var level: String?
    var format: String?
    var noColor: Bool?
}

struct StaticServersTransport: Sendable, Hashable, Codable, ConfigModel {
    var insecureSkipVerify: Bool?
    var rootCAs: [String]?
    var maxIdleConnsPerHost: Int?
    var forwardingTimeouts: StaticForwardingTimeouts?
}

struct StaticForwardingTimeouts: Sendable, Hashable, Codable, ConfigModel {
    var dialTimeout: ConfigDuration?
    var responseHeaderTimeout: ConfigDuration?
    var idleConnTimeout: ConfigDuration?
}
