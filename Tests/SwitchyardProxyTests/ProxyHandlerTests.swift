import NIOConcurrencyHelpers
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

/// An internal service that answers when the test says so, in order.
final class DeferredService: InternalService {
    let promises = NIOLockedValueBox<[EventLoopPromise<InternalResponse>]>([])
    func respond(to request: HTTPRequestHead, on eventLoop: any EventLoop) -> EventLoopFuture<InternalResponse> {
        let promise = eventLoop.makePromise(of: InternalResponse.self)
        promises.withLockedValue { $0.append(promise) }
        return promise.futureResult
    }
    func answerNext(_ text: String) {
        let promise = promises.withLockedValue { $0.removeFirst() }
        promise.succeed(InternalResponse(status: .ok, body: ByteBuffer(string: text)))
    }
    var waiting: Int { promises.withLockedValue { $0.count } }
}

@Suite struct ProxyHandlerTests {
    /// A channel with the proxy handler, routing with a table that sends `/internal` to a fixed service and
    /// `/deferred` to `deferred`.
    static func channel(deferred: DeferredService = DeferredService()) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let compiler = RoutingTableCompiler(
            entryPoints: ["web"],
            internalServices: ["fixed@internal": FixedService(text: "hello"), "deferred@internal": deferred],
            internalRouters: [
                .init(name: "fixed@internal", entryPoints: ["web"], rule: "Path(`/internal`)", priority: 1, service: "fixed@internal"),
                .init(name: "deferred@internal", entryPoints: ["web"], rule: "Path(`/deferred`)", priority: 1, service: "deferred@internal"),
            ])
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

    @Test func pipelinedRequestsWaitForTheResponseBefore() throws {
        let deferred = DeferredService()
        let channel = try Self.channel(deferred: deferred)
        try Self.send("/deferred", to: channel)
        try Self.send("/internal", to: channel)
        try Self.send("/deferred", to: channel)
        // Nothing is answered out of order: the second request waits for the first response.
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
        #expect(deferred.waiting == 1)
        deferred.answerNext("first")
        #expect(try Self.readResponse(channel).1 == "first")
        #expect(try Self.readResponse(channel).1 == "hello")
        #expect(deferred.waiting == 1)
        deferred.answerNext("third")
        #expect(try Self.readResponse(channel).1 == "third")
        #expect(channel.isActive)
    }

    @Test func quiescingClosesIdleConnectionsAndBusyOnesAfterTheirResponse() throws {
        let idle = try Self.channel()
        idle.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        idle.embeddedEventLoop.run()
        #expect(!idle.isActive)

        let deferred = DeferredService()
        let busy = try Self.channel(deferred: deferred)
        try Self.send("/deferred", to: busy)
        busy.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(busy.isActive)
        deferred.answerNext("last")
        let (head, body) = try Self.readResponse(busy)
        #expect(body == "last")
        #expect(head.headers["connection"] == ["close"])
        busy.embeddedEventLoop.run()
        #expect(!busy.isActive)
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
