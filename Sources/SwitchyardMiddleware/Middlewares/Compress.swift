import NIOHTTP1
import SwitchyardConfig

/// When the proxy compresses a response (`compress`): the encoding the client accepts, and the rules for which
/// responses qualify. The proxy streams the body through the encoder.
public struct CompressionPolicy: Sendable {
    /// The chosen encoding's name for `Content-Encoding` (`gzip`, `br` or `zstd`).
    public let encoding: String
    public let minimumBytes: Int
    public let excludedTypes: [String]
    public let includedTypes: [String]

    /// Whether a response with these headers and status is compressed.
    public func applies(to head: HTTPResponseHead, request: HTTPRequestHead) -> Bool {
        let code = head.status.code
        guard request.method != .HEAD, code >= 200, code != 204, code != 206, code != 304,
            !head.headers.contains(name: "content-encoding")
        else { return false }
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length < minimumBytes { return false }
        let type = (head.headers.first(name: "content-type") ?? "").split(separator: ";").first.map {
            $0.trimmingCharacters(in: " ").lowercased()
        } ?? ""
        if !includedTypes.isEmpty { return includedTypes.contains(type) }
        return !excludedTypes.contains(type)
    }
}

/// `compress`: negotiates an encoding from `Accept-Encoding` and hands the policy to the proxy, which streams the
/// body through gzip, brotli or Zstandard.
struct Compress: HTTPMiddleware {
    static let supported = ["gzip", "br", "zstd"]
    static let defaultExcluded = ["application/grpc", "text/event-stream"]

    let encodings: [String]
    let defaultEncoding: String?
    let minimumBytes: Int
    let excludedTypes: [String]
    let includedTypes: [String]

    init(_ options: CompressMiddleware) throws(MiddlewareConfigurationError) {
        let wanted = (options.encodings ?? ["gzip", "br", "zstd"]).map { $0.lowercased() }
        if let unknown = wanted.first(where: { !Self.supported.contains($0) }) {
            throw MiddlewareConfigurationError("compress.encodings: '\(unknown)' is not an encoding; use gzip, br or zstd")
        }
        encodings = wanted
        guard !encodings.isEmpty else {
            throw MiddlewareConfigurationError("compress.encodings: name at least one of gzip, br, zstd")
        }
        if let fallback = options.defaultEncoding?.lowercased(), !fallback.isEmpty {
            guard Self.supported.contains(fallback) else {
                throw MiddlewareConfigurationError("compress.defaultEncoding: '\(fallback)' is not an encoding; use gzip, br or zstd")
            }
            defaultEncoding = fallback
        } else {
            defaultEncoding = nil
        }
        guard options.includedContentTypes == nil || options.excludedContentTypes == nil else {
            throw MiddlewareConfigurationError("compress: set includedContentTypes or excludedContentTypes, not both")
        }
        minimumBytes = options.minResponseBodyBytes ?? 1024
        guard minimumBytes >= 0 else { throw MiddlewareConfigurationError("compress.minResponseBodyBytes: must not be negative") }
        excludedTypes = (options.excludedContentTypes ?? Self.defaultExcluded).map { $0.lowercased() }
        includedTypes = (options.includedContentTypes ?? []).map { $0.lowercased() }
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        guard let encoding = negotiate(head.headers["accept-encoding"]) else { return .proceed }
        context.scope.compression = CompressionPolicy(
            encoding: encoding, minimumBytes: minimumBytes, excludedTypes: excludedTypes, includedTypes: includedTypes)
        return .proceed
    }

    /// The encoding the client prefers (highest q > 0) among ours, ties going to the first in `encodings`; the
    /// default encoding when the client sends no preference, or accepts ours only through `*`.
    func negotiate(_ values: [String]) -> String? {
        guard !values.isEmpty else { return defaultEncoding }
        var accepted: [String: Double] = [:]
        for item in values.flatMap({ $0.split(separator: ",") }) {
            let parts = item.split(separator: ";")
            guard let first = parts.first else { continue }
            let name = first.trimmingCharacters(in: " ").lowercased()
            var quality = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                if pair.count == 2, pair[0].trimmingCharacters(in: " ") == "q" {
                    quality = Double(pair[1].trimmingCharacters(in: " ")) ?? 1.0
                }
            }
            accepted[name] = quality
        }
        var best: (encoding: String, quality: Double)?
        for encoding in encodings {
            guard let quality = accepted[encoding], quality > 0 else { continue }
            if best == nil || quality > best!.quality { best = (encoding, quality) }
        }
        if let best { return best.encoding }
        guard let wildcard = accepted["*"], wildcard > 0 else { return nil }
        if let defaultEncoding { return defaultEncoding }
        // `*` covers the encodings the client did not name (one it named with q=0 stays refused).
        return encodings.first { accepted[$0] == nil }
    }
}
