import NIOHTTP1

/// The answer both redirect middlewares give: 302, or 301 when permanent; 307 / 308 for methods other than GET and
/// HEAD, so that the client repeats the same method and body.
enum Redirect {
    static func respond(to location: String, permanent: Bool, method: HTTPMethod) -> MiddlewareAction {
        let keepsMethod = method != .GET && method != .HEAD
        let status: HTTPResponseStatus =
            permanent ? (keepsMethod ? .permanentRedirect : .movedPermanently) : (keepsMethod ? .temporaryRedirect : .found)
        var headers = HTTPHeaders()
        headers.add(name: "Location", value: location)
        return .respond(status, headers: headers, body: "")
    }
}
