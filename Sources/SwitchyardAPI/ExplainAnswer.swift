import Foundation
import NIOHTTP1
import SwitchyardConfig
import SwitchyardRouting

/// `/api/explain?method=&url=&entryPoint=&clientIP=&header=Name:%20value`: which router a request would hit and
/// why, from the table in force (see `RouteExplanation`).
enum ExplainAnswer {
    struct Answer: Encodable {
        struct Request: Encodable {
            var method: String
            var host: String
            var path: String
            var entryPoint: String
            var clientIP: String
            var tls: Bool
        }

        var version: UInt64
        var request: Request
        var explanation: RouteExplanation

        enum CodingKeys: String, CodingKey { case version, request }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(version, forKey: .version)
            try container.encode(request, forKey: .request)
            try explanation.encode(to: encoder)
        }
    }

    struct Invalid: Error {
        var message: String
    }

    static func answer(table: RoutingTable, query: [URLQueryItem], entryPoints: [String]) -> InternalResponse {
        do {
            return APIService.json(try explain(table: table, query: query, entryPoints: entryPoints))
        } catch {
            return APIService.text(.badRequest, "invalid request: \(error.message)\n")
        }
    }

    static func explain(table: RoutingTable, query: [URLQueryItem], entryPoints: [String]) throws(Invalid) -> Answer {
        func value(_ name: String) -> String? { query.last { $0.name == name }?.value.flatMap { $0.isEmpty ? nil : $0 } }
        guard let url = value("url") else { throw Invalid(message: "url: give the request's URL, e.g. http://example.com/path") }
        let method = (value("method") ?? "GET").uppercased()
        guard method.allSatisfy({ $0.isLetter }) else { throw Invalid(message: "method: '\(method)' is not an HTTP method") }
        var headers = HTTPHeaders()
        for item in query where item.name == "header" {
            guard let line = item.value, let colon = line.firstIndex(of: ":") else {
                throw Invalid(message: "header: '\(item.value ?? "")' is not 'Name: value'")
            }
            headers.add(name: line[..<colon].trimmingCharacters(in: .whitespaces),
                        value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        // An absolute URL gives the host and the scheme; a path alone takes the Host header.
        var tls = false
        var target = url
        if let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() {
            guard scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty else {
                throw Invalid(message: "url: '\(url)' is not an http:// or https:// URL")
            }
            tls = scheme == "https"
            let authority = components.port.map { "\(host):\($0)" } ?? host
            headers.replaceOrAdd(name: "host", value: authority)
            target = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
            if let query = components.percentEncodedQuery { target += "?\(query)" }
        } else if !url.hasPrefix("/") {
            throw Invalid(message: "url: '\(url)' is neither an absolute URL nor a path")
        }
        let entryPoint = value("entryPoint") ?? entryPoints.first { $0 != "traefik" } ?? entryPoints.first ?? ""
        guard let routes = (tls ? table.secureEntryPoints : table.entryPoints)[entryPoint] else {
            throw Invalid(message: "entryPoint: no entry point \"\(entryPoint)\"")
        }
        let clientIP = value("clientIP") ?? ""
        var clientAddress: [UInt8] = []
        if !clientIP.isEmpty {
            guard let address = IPNetwork.parseAddress(clientIP[...]) else {
                throw Invalid(message: "clientIP: '\(clientIP)' is not an IP address")
            }
            clientAddress = address
        }
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: target, headers: headers)
        let request = RoutingRequest(head: head, clientAddress: clientAddress)
        let explanation = RouteExplanation(routes: routes, request: request) { router in
            table.status.routers[router]?.router.middlewares ?? []
        }
        return Answer(
            version: table.version,
            request: .init(
                method: method, host: request.host, path: String(request.path), entryPoint: entryPoint,
                clientIP: clientIP, tls: tls),
            explanation: explanation)
    }
}
