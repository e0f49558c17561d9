import NIOHTTP1
import SwitchyardRouting

extension ProxyHandler {
    /// Checks a request head before routing, and puts its target in the one form routing and forwarding share:
    /// origin-form (an absolute-form target's authority becomes the Host, RFC 9112 §3.2.2), the path checked for
    /// ambiguous encoded characters and cleaned of dot segments and repeated slashes. Nil: the request goes on;
    /// else the status and reason it is refused with (and its connection closed).
    static func refusal(of head: inout HTTPRequestHead, settings: EntryPointSettings) -> (HTTPResponseStatus, String)? {
        if head.method == .CONNECT { return (.methodNotAllowed, "CONNECT is not served: this is not a forward proxy") }
        if head.headers.count > settings.maxHeaderCount {
            return (.requestHeaderFieldsTooLarge, "more than \(settings.maxHeaderCount) request headers")
        }
        // A transfer coding other than chunked alone is one the proxy cannot pass on faithfully (RFC 9112 §6.1).
        for value in head.headers[canonicalForm: "transfer-encoding"] where !ForwardedRequest.equalsLowercased(trimmed(String(value)), "chunked") {
            return (.notImplemented, "the transfer coding '\(value)' is not supported")
        }
        var target = head.uri[...]
        if target.utf8.first != UInt8(ascii: "/") {
            guard target.utf8.first != UInt8(ascii: "*") else { return nil }  // OPTIONS *
            guard let schemeEnd = target.firstRange(of: "://") else { return (.badRequest, "the request target is not a path or a URL") }
            let afterScheme = target[schemeEnd.upperBound...]
            let authorityEnd = afterScheme.utf8.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }
                ?? afterScheme.endIndex
            let authority = afterScheme[..<authorityEnd]
            guard !authority.isEmpty else { return (.badRequest, "the request target has no host") }
            head.headers.replaceOrAdd(name: "host", value: String(authority))
            target = afterScheme[authorityEnd...]
            if target.utf8.first != UInt8(ascii: "/") { target = "/" + target }
            head.uri = String(target)
        }
        if target.utf8.contains(UInt8(ascii: "#")) { return (.badRequest, "a fragment is not part of a request target") }
        let queryStart = target.utf8.firstIndex(of: UInt8(ascii: "?")) ?? target.endIndex
        switch RequestPath.clean(target[..<queryStart], allowed: settings.encodedCharacters, sanitize: settings.sanitizePath) {
        case .unchanged:
            return nil
        case .cleaned(let path):
            head.uri = path + target[queryStart...]
            return nil
        case .refused(let reason):
            return (.badRequest, reason)
        }
    }

    private static func trimmed(_ value: String) -> Substring {
        var text = value[...]
        while let first = text.utf8.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { text = text.dropFirst() }
        while let last = text.utf8.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { text = text.dropLast() }
        return text
    }
}
