import SwitchyardConfig
import SwitchyardProviderKit
import Testing

@Suite struct ConfigurationWatcherTests {
    @Test func mergesProvidersAndQualifiesReferences() throws {
        var router = Fixtures.router("Path(`/`)", service: "s")
        router.middlewares = ["m", "auth@docker"]
        let merged = ConfigurationMerger.merge([
            Fixtures.snapshot(provider: "file", routers: ["r": router], services: ["s": Fixtures.service(["http://a"])]),
            Fixtures.snapshot(provider: "docker", routers: ["r": Fixtures.router("Path(`/d`)")]),
        ])
        let routers = try #require(merged.configuration.http?.routers)
        #expect(Set(routers.keys) == ["r@file", "r@docker"])
        #expect(routers["r@file"]?.service == "s@file")
        #expect(routers["r@file"]?.middlewares == ["m@file", "auth@docker"])
        #expect(routers["r@docker"]?.service == "s@docker")
        #expect(merged.origins[ResourceKey(.httpRouter, "r@file")]?.source == "dyn.yml")
        #expect(merged.providers == ["docker", "file"])
    }

    @Test func emitsAtOnceThenCoalescesWithinTheThrottleWindow() async throws {
        let watcher = ConfigurationWatcher(throttle: .milliseconds(300))
        var updates = watcher.updates.makeAsyncIterator()
        await watcher.receive(Fixtures.snapshot(routers: ["a": Fixtures.router("Path(`/a`)")]))
        let first = try #require(await updates.next())
        #expect(first.merged.configuration.http?.routers?.keys.sorted() == ["a@file"])
        // Three changes inside the window become one emission carrying the last.
        await watcher.receive(Fixtures.snapshot(routers: ["b": Fixtures.router("Path(`/b`)")]))
        await watcher.receive(Fixtures.snapshot(routers: ["c": Fixtures.router("Path(`/c`)")]))
        await watcher.receive(Fixtures.snapshot(routers: ["d": Fixtures.router("Path(`/d`)")]))
        let second = try #require(await updates.next())
        #expect(second.merged.configuration.http?.routers?.keys.sorted() == ["d@file"])
        #expect(second.changedProviders == ["file"])
        await watcher.finish()
    }

    @Test func dropsUnchangedSnapshots() async throws {
        let watcher = ConfigurationWatcher(throttle: .zero)
        var updates = watcher.updates.makeAsyncIterator()
        let snapshot = Fixtures.snapshot(routers: ["a": Fixtures.router("Path(`/a`)")])
        await watcher.receive(snapshot)
        _ = await updates.next()
        await watcher.receive(snapshot)
        await watcher.finish()
        #expect(await updates.next() == nil)
    }

    @Test func aRestoredConfigurationStaysWhileItsProviderCannotReadItsSource() async throws {
        let merged = ConfigurationMerger.merge([
            Fixtures.snapshot(provider: "file", routers: ["a": Fixtures.router("Path(`/a`)")], services: ["s": Fixtures.service(["http://a"])]),
            Fixtures.snapshot(provider: "docker", routers: ["d": Fixtures.router("Path(`/d`)")]),
        ])
        let restored = try #require(ProviderSnapshot.restored(from: merged.configuration, provider: "file"))
        #expect(restored.configuration.http?.routers?.keys.sorted() == ["a"])
        #expect(restored.configuration.http?.routers?["a"]?.service == "s@file")
        #expect(restored.configuration.http?.services?.keys.sorted() == ["s"])
        #expect(ProviderSnapshot.restored(from: merged.configuration, provider: "kubernetes") == nil)

        let watcher = ConfigurationWatcher(throttle: .zero)
        var updates = watcher.updates.makeAsyncIterator()
        await watcher.restore([restored])
        var unavailable = ProviderSnapshot(provider: "file", configuration: DynamicConfiguration())
        unavailable.sourceUnavailable = true
        await watcher.receive(unavailable)
        let first = try #require(await updates.next())
        #expect(first.merged.configuration.http?.routers?.keys.sorted() == ["a@file"])
        #expect(first.merged.issues.contains { $0.message.contains("from the history") })
        // The first real view replaces it, and the restored one is gone for good.
        await watcher.receive(Fixtures.snapshot(provider: "file", routers: ["b": Fixtures.router("Path(`/b`)")]))
        let second = try #require(await updates.next())
        #expect(second.merged.configuration.http?.routers?.keys.sorted() == ["b@file"])
        await watcher.receive(unavailable)
        let third = try #require(await updates.next())
        #expect(third.merged.configuration.http?.routers == nil || third.merged.configuration.http?.routers?.isEmpty == true)
        await watcher.finish()
    }
}
