/// An HTTP middleware: exactly one of its types (or one plugin) is set, under Traefik's key for it.
public struct Middleware: Sendable, Hashable, Codable, ConfigModel {
    public var addPrefix: AddPrefixMiddleware?
    public var stripPrefix: StripPrefixMiddleware?
    public var stripPrefixRegex: StripPrefixRegexMiddleware?
    public var replacePath: ReplacePathMiddleware?
    public var replacePathRegex: ReplacePathRegexMiddleware?
    public var chain: ChainMiddleware?
    /// Deprecated alias of `ipAllowList`.
    public var ipWhiteList: IPAllowListMiddleware?
    public var ipAllowList: IPAllowListMiddleware?
    public var headers: HeadersMiddleware?
    public var errors: ErrorsMiddleware?
    public var rateLimit: RateLimitMiddleware?
    public var redirectRegex: RedirectRegexMiddleware?
    public var redirectScheme: RedirectSchemeMiddleware?
    public var basicAuth: BasicAuthMiddleware?
    public var digestAuth: DigestAuthMiddleware?
    public var forwardAuth: ForwardAuthMiddleware?
    public var inFlightReq: InFlightReqMiddleware?
    public var buffering: BufferingMiddleware?
    public var circuitBreaker: CircuitBreakerMiddleware?
    public var compress: CompressMiddleware?
    public var passTLSClientCert: PassTLSClientCertMiddleware?
    public var retry: RetryMiddleware?
    public var contentType: ContentTypeMiddleware?
    public var grpcWeb: GrpcWebMiddleware?
    public var encodedCharacters: EncodedCharactersMiddleware?
    /// Plugin configurations keyed by plugin name; their options have no fixed schema.
    public var plugin: [String: AnyConfigValue]?

    public init() {}

    /// The Traefik keys of the middleware types that are set, in declaration order.
    public var configuredTypes: [String] {
        var types: [String] = []
        if addPrefix != nil { types.append("addPrefix") }
        if stripPrefix != nil { types.append("stripPrefix") }
        if stripPrefixRegex != nil { types.append("stripPrefixRegex") }
        if replacePath != nil { types.append("replacePath") }
        if replacePathRegex != nil { types.append("replacePathRegex") }
        if chain != nil { types.append("chain") }
        if ipWhiteList != nil { types.append("ipWhiteList") }
        if ipAllowList != nil { types.append("ipAllowList") }
        if headers != nil { types.append("headers") }
        if errors != nil { types.append("errors") }
        if rateLimit != nil { types.append("rateLimit") }
        if redirectRegex != nil { types.append("redirectRegex") }
        if redirectScheme != nil { types.append("redirectScheme") }
        if basicAuth != nil { types.append("basicAuth") }
        if digestAuth != nil { types.append("digestAuth") }
        if forwardAuth != nil { types.append("forwardAuth") }
        if inFlightReq != nil { types.append("inFlightReq") }
        if buffering != nil { types.append("buffering") }
        if circuitBreaker != nil { types.append("circuitBreaker") }
        if compress != nil { types.append("compress") }
        if passTLSClientCert != nil { types.append("passTLSClientCert") }
        if retry != nil { types.append("retry") }
        if contentType != nil { types.append("contentType") }
        if grpcWeb != nil { types.append("grpcWeb") }
        if encodedCharacters != nil { types.append("encodedCharacters") }
        if plugin != nil { types.append("plugin") }
        return types
    }
}
