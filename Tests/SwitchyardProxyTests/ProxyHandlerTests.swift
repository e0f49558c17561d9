import NIOCore
import NIOEmbedded
import NIOHTTP1
import SwitchyardConfig
import SwitchyardProviderKit
import SwitchyardRouting
import SwitchyardUpstream
import Testing

@testable import SwitchyardProxy

/// An internal service that answers with a fixed text.
struct FixedService: InternalService {
    var text: String
    func respond(to request: HTTPRequestHead, on eventLoop: any EventLoop) -> EventLoopFuture<InternalResponse> {
        eventLoop.makeSucceededFuture(InternalResponse(status: .ok, body: ByteBuffer(string: text)))
    }
}

@Suite struct ProxyHandlerTests {
    /// A channel with the proxy handler, routing with a table that sends `/internal` to a fixed service.
    static func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let compiler = RoutingTableCompiler(
            entryPoints: ["web"], internalServices: ["fixed@internal": FixedService(text: "hello")],
            internalRouters: [.init(name: "fixed@internal", entryPoints: ["web"], rule: "Path(`/internal`)", priority: 1, service: "fixed@internal")])
        let store = RoutingTableStore(initial: compiler.compile(MergedConfiguration(), version: 1), eventLoops: [channel.eventLoop])
        let handler = ProxyHandler(
            settings: EntryPointSettings(name: "web", hostname: "test"), slot: store.slot(for: channel.eventLoop),
            pool: UpstreamConnectionPool(eventLoop: channel.eventLoop), logger: .init(label: "test"))
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    static func send(_ uri: String, to channel: EmbeddedChannel, keepAlive: Bool = true) throws {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: ["host": "a.test"])
        if !keepAlive { head.headers.add(name: "connection", value: "close") }
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
    }

    static func readResponse(_ channel: EmbeddedChannel) throws -> (HTTPResponseHead, String) {
        guard case .head(let head)? = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            throw ChannelError.inappropriateOperationForState
        }
        var body = ""
        while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
            switch part {
            case .body(.byteBuffer(let buffer)): body += String(buffer: buffer)
            case .end: return (head, body)
            default: break
            }
        }
        return (head, body)
    }

    @Test func answers404WhenNoRouterMatches() throws {
        let channel = try Self.channel()
        try Self.send("/nothing", to: channel)
        let (head, body) = try Self.readResponse(channel)
        #expect(head.status == .notFound)
        #expect(body == "404 page not found\n")
        #expect(head.headers["content-length"] == ["19"])
        #expect(channel.isActive)
    }

    @Test func servesInternalServicesAndKeepsTheConnection() throws {
        let channel = try Self.channel()
        try Self.send("/internal", to: channel)
        let (head, body) = try Self.readResponse(channel)
        #expect(head.status == .ok)
        #expect(body == "hello")
        try Self.send("/internal", to: channel)
        #expect(try Self.readResponse(channel).1 == "hello")
    }

    @Test func closesAfterTheResponseWhenAsked() throws {
        let channel = try Self.channel()
        try Self.send("/nothing", to: channel, keepAlive: false)
        let (head, _) = try Self.readResponse(channel)
        #expect(head.headers["connection"] == ["close"])
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }
}
