import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// `switchyard whoami`: a small echo backend for examples, tests and benchmarks. `/ws` and `/echo` echo WebSocket
/// messages.
enum WhoamiServer {
    static func run(host: String, port: Int, name: String) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let upgrader = NIOTypedWebSocketServerUpgrader<Void>(
            maxFrameSize: 1 << 24,
            shouldUpgrade: { channel, head in
                let path = WhoamiHandler.split(head.uri).path
                return channel.eventLoop.makeSucceededFuture(path == "/ws" || path == "/echo" ? HTTPHeaders() : nil)
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(WebSocketEchoHandler())
                }
            })
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let configuration = NIOUpgradableHTTPServerPipelineConfiguration<Void>(
                        upgradeConfiguration: .init(upgraders: [upgrader], notUpgradingCompletionHandler: { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(WhoamiHandler(name: name))
                            }
                        }))
                    _ = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
                }
            }
            .bind(host: host, port: port)
            .get()
        print("whoami \(name) listening on \(channel.localAddress.map { "\($0)" } ?? "\(host):\(port)")")
        try await channel.closeFuture.get()
    }
}

/// Echoes text and binary WebSocket messages, answers pings, closes on close.
final class WebSocketEchoHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary, .continuation:
            let reply = WebSocketFrame(fin: frame.fin, opcode: frame.opcode, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: frame.unmaskedData)))
                .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        default:
            break
        }
    }
}

@available(*, unavailable)
extension WebSocketEchoHandler: Sendable {}
