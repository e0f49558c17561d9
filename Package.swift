// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

/// The data plane runs per request: release builds skip the dynamic exclusivity checks there (the static ones stay).
let dataPlaneSettings: [SwiftSetting] = swiftSettings + [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Switchyard",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "switchyard", targets: ["switchyard"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .target(
            name: "SwitchyardConfig",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwitchyardProviderKit",
            dependencies: [
                "SwitchyardConfig",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwitchyardFileProvider",
            dependencies: [
                "SwitchyardConfig",
                "SwitchyardProviderKit",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "providers/file/Sources",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwitchyardDockerProvider",
            dependencies: [
                "SwitchyardConfig",
                "SwitchyardProviderKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "providers/docker/Sources",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwitchyardKubernetesProvider",
            dependencies: [
                "SwitchyardConfig",
                "SwitchyardProviderKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "providers/kubernetes/Sources",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwitchyardTLS",
            dependencies: [
                "SwitchyardConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwitchyardStore",
            dependencies: [.product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwitchyardACME",
            dependencies: [
                "SwitchyardConfig",
                "SwitchyardProviderKit",
                "SwitchyardStore",
                "SwitchyardTLS",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwitchyardHTTP1",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: dataPlaneSettings
        ),
        .target(
            name: "SwitchyardUpstream",
            dependencies: [
                "SwitchyardConfig",
                "SwitchyardHTTP1",
                "SwitchyardTLS",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: dataPlaneSettings
        ),
        .systemLibrary(name: "CBrotli", pkgConfig: "libbrotlienc", providers: [.apt(["libbrotli-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .target(
            name: "CCrypt",
            linkerSettings: [.linkedLibrary("crypt")]
        ),
        .target(
            name: "SwitchyardMiddleware",
            dependencies: [
                "CCrypt",
                "SwitchyardTLS",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                "SwitchyardConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: dataPlaneSettings
        ),
        .target(
            name: "SwitchyardRouting",
            dependencies: [
                "SwitchyardConfig",
                "SwitchyardTLS",
                "SwitchyardUpstream",
                "SwitchyardMiddleware",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: dataPlaneSettings
        ),
        .target(
            name: "SwitchyardProxy",
            dependencies: [
                "SwitchyardRouting",
                "SwitchyardTLS",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOTLS", package: "swift-nio"),
                "SwitchyardUpstream",
                "SwitchyardHTTP1",
                "SwitchyardMiddleware",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
                "CBrotli",
                "CZstd",
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: dataPlaneSettings
        ),
        .target(
            name: "SwitchyardObservability",
            dependencies: [
                "SwitchyardConfig",
                "SwitchyardRouting",
                "SwitchyardTLS",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "DashboardEmbedder",
            path: "Plugins/DashboardEmbedder",
            swiftSettings: swiftSettings
        ),
        .plugin(
            name: "EmbedDashboard",
            capability: .buildTool(),
            dependencies: ["DashboardEmbedder"]
        ),
        .target(
            name: "SwitchyardDashboard",
            swiftSettings: swiftSettings,
            plugins: ["EmbedDashboard"]
        ),
        .target(
            name: "SwitchyardAPI",
            dependencies: [
                "SwitchyardConfig",
                "SwitchyardDashboard",
                "SwitchyardRouting",
                "SwitchyardTLS",
                "SwitchyardStore",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "switchyard",
            dependencies: [
                "SwitchyardConfig",
                "SwitchyardProviderKit",
                "SwitchyardFileProvider",
                "SwitchyardDockerProvider",
                "SwitchyardKubernetesProvider",
                "SwitchyardACME",
                "SwitchyardStore",
                "SwitchyardTLS",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "SwitchyardRouting",
                "SwitchyardProxy",
                "SwitchyardAPI",
                "SwitchyardObservability",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwitchyardFuzzTargets",
            dependencies: ["SwitchyardConfig", "SwitchyardRouting", "SwitchyardProviderKit", "SwitchyardDockerProvider"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "switchyard-fuzz",
            dependencies: ["SwitchyardFuzzTargets"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchyardFuzzTests",
            dependencies: ["SwitchyardFuzzTargets"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchyardConfigTests",
            dependencies: ["SwitchyardConfig"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchyardRoutingTests",
            dependencies: ["SwitchyardRouting", "SwitchyardProviderKit", "SwitchyardConfig"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchyardMiddlewareTests",
            dependencies: [
                "SwitchyardMiddleware", "SwitchyardConfig", .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchyardFileProviderTests",
            dependencies: ["SwitchyardFileProvider", "SwitchyardProviderKit", "SwitchyardRouting", "SwitchyardConfig"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchyardDockerProviderTests",
            dependencies: ["SwitchyardDockerProvider", "SwitchyardProviderKit", "SwitchyardRouting", "SwitchyardConfig"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchyardKubernetesProviderTests",
            dependencies: ["SwitchyardKubernetesProvider", "SwitchyardConfig"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchyardTLSTests",
            dependencies: [
                "SwitchyardTLS", "SwitchyardRouting", "SwitchyardProviderKit", "SwitchyardConfig",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchyardACMETests",
            dependencies: [
                "SwitchyardACME", "SwitchyardStore", "SwitchyardConfig",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchyardExecutableTests",
            dependencies: ["switchyard", "SwitchyardConfig", "SwitchyardObservability"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchyardProxyTests",
            dependencies: [
                "SwitchyardProxy", "SwitchyardRouting", "SwitchyardUpstream", "SwitchyardHTTP1", "SwitchyardConfig",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
