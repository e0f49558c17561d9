import NIOHTTP1
import SwitchyardConfig

/// `contentType`: in Traefik v3 its presence lets Go guess a missing `Content-Type` from the body. Switchyard never
/// adds a `Content-Type` a server did not send, with or without it, so the middleware changes nothing; it is
/// accepted so configurations written for Traefik load unchanged.
struct ContentType: HTTPMiddleware {
    init(_ options: ContentTypeMiddleware) {}

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction { .proceed }
}
