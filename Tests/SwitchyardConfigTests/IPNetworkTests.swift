import Testing
@testable import SwitchyardConfig

@Suite struct IPNetworkTests {
    // MARK: Parsing

    @Test(arguments: [
        // (text, address bytes, prefix length, description)
        ("10.0.0.1", [10, 0, 0, 1] as [UInt8], 32, "10.0.0.1/32"),
        ("0.0.0.0", [0, 0, 0, 0], 32, "0.0.0.0/32"),
        ("255.255.255.255", [255, 255, 255, 255], 32, "255.255.255.255/32"),
        ("10.0.0.0/8", [10, 0, 0, 0], 8, "10.0.0.0/8"),
        ("10.1.2.3/8", [10, 0, 0, 0], 8, "10.0.0.0/8"),              // host bits zeroed
        ("192.168.77.200/20", [192, 168, 64, 0], 20, "192.168.64.0/20"),
        ("0.0.0.0/0", [0, 0, 0, 0], 0, "0.0.0.0/0"),
        ("172.16.5.4/32", [172, 16, 5, 4], 32, "172.16.5.4/32"),
        ("::1", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128, "::1/128"),
        ("::", [UInt8](repeating: 0, count: 16), 128, "::/128"),
        ("::/0", [UInt8](repeating: 0, count: 16), 0, "::/0"),
        ("2001:db8::/32", [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 32, "2001:db8::/32"),
        ("2001:DB8:1234:5678::/33", [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 33, "2001:db8::/33"),
        ("2001:db8:ffff::/33", [0x20, 0x01, 0x0d, 0xb8, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 33, "2001:db8:8000::/33"),
        ("fe80::1:2", [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2], 128, "fe80::1:2/128"),
        ("1:2:3:4:5:6:7:8", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8], 128, "1:2:3:4:5:6:7:8/128"),
        ("1:2:3:4:5:6:7::", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0], 128, "1:2:3:4:5:6:7:0/128"),
        ("1::", [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 128, "1::/128"),
        ("1:0:0:2:0:0:0:3", [0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3], 128, "1:0:0:2::3/128"),
        ("::ffff:1.2.3.4", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4], 128, "::ffff:1.2.3.4/128"),
        ("::FFFF:10.0.0.0/104", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0], 104, "::ffff:10.0.0.0/104"),
        ("::ffff:0:0/96", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0], 96, "::ffff:0.0.0.0/96"),
        ("64:ff9b::192.0.2.33", [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 33], 128, "64:ff9b::c000:221/128"),
        ("1:2:3:4:5:6:1.2.3.4", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4], 128, "1:2:3:4:5:6:102:304/128"),
    ])
    func parses(text: String, address: [UInt8], prefixLength: Int, description: String) throws {
        let network = try #require(IPNetwork(text))
        #expect(network.address == address)
        #expect(network.prefixLength == prefixLength)
        #expect(network.description == description)
        // The description parses back to the same network.
        #expect(IPNetwork(network.description) == network)
    }

    @Test(arguments: [
        "", "abc", "1.2.3", "1.2.3.256", "1.2.3.4.5", "1.2.3.4.", ".1.2.3.4", "1..2.3", "01.2.3.4", "1.2.3.04",
        "1.2.3.-4", "1.2.3.4 ", " 1.2.3.4", "1.2.3.1000",
        "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0.0/a", "10.0.0.0/1234", "/8",
        "::1::2", ":::", ":", "1:", ":1", "1::2:", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
        "12345::", "g::1", "1:2:3:4:5:6:7", "fe80::1%eth0", "::/129", "1.2.3.4::", "::1.2.3", "::1.2.3.4:5",
        "1:2:3:4:5:6:7:1.2.3.4", "::ffff:1.2.3.256", "2001:db8::/", "１.２.３.４",
    ])
    func rejects(text: String) {
        #expect(IPNetwork(text) == nil)
    }

    @Test(arguments: [
        ("127.0.0.1", [127, 0, 0, 1] as [UInt8]),
        ("::1", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        ("::ffff:127.0.0.1", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]),
    ])
    func parseAddress(text: String, bytes: [UInt8]) {
        #expect(IPNetwork.parseAddress(Substring(text)) == bytes)
        #expect(IPNetwork.parseAddress(Substring(text + "/8")) == nil)
    }

    @Test func parseAddressWorksOnSubstrings() {
        let text = "client=10.1.2.3:443"
        let start = text.index(text.startIndex, offsetBy: 7)
        let end = text.index(start, offsetBy: 8)
        #expect(IPNetwork.parseAddress(text[start..<end]) == [10, 1, 2, 3])
    }

    // MARK: Matching

    @Test(arguments: [
        // (network, address, expected)
        ("10.0.0.0/8", "10.255.1.2", true),
        ("10.0.0.0/8", "11.0.0.1", false),
        ("192.168.64.0/20", "192.168.79.255", true),
        ("192.168.64.0/20", "192.168.80.0", false),
        ("10.0.0.1", "10.0.0.1", true),
        ("10.0.0.1", "10.0.0.2", false),
        ("0.0.0.0/0", "203.0.113.9", true),
        ("2001:db8::/32", "2001:db8:ffff::1", true),
        ("2001:db8::/32", "2001:db9::1", false),
        ("2001:db8:8000::/33", "2001:db8:ffff::1", true),
        ("2001:db8:8000::/33", "2001:db8:7fff::1", false),
        ("::1", "::1", true),
        ("::/0", "fe80::1", true),
        // IPv4-mapped IPv6 addresses match IPv4 networks...
        ("10.0.0.0/8", "::ffff:10.9.8.7", true),
        ("10.0.0.0/8", "::ffff:11.9.8.7", false),
        ("10.0.0.1", "::ffff:10.0.0.1", true),
        // ...and IPv4 addresses match networks written in mapped form.
        ("::ffff:0:0/96", "1.2.3.4", true),
        ("::ffff:0:0/96", "::ffff:1.2.3.4", true),
        ("::ffff:10.0.0.0/104", "10.1.1.1", true),
        ("::ffff:10.0.0.0/104", "11.1.1.1", false),
        ("::ffff:1.2.3.4", "1.2.3.4", true),
        // Other IPv6 networks never contain IPv4 (as in Go's IPNet.Contains).
        ("::/0", "1.2.3.4", false),
        ("::/0", "::ffff:1.2.3.4", false),
        ("2001:db8::/32", "10.0.0.1", false),
        ("10.0.0.0/8", "2001:db8::1", false),
        ("0.0.0.0/0", "::1", false),
    ])
    func contains(network: String, address: String, expected: Bool) throws {
        let net = try #require(IPNetwork(network))
        let bytes = try #require(IPNetwork.parseAddress(Substring(address)))
        #expect(net.contains(bytes) == expected)
    }

    @Test func containsRejectsMalformedAddresses() throws {
        let net = try #require(IPNetwork("0.0.0.0/0"))
        #expect(!net.contains([]))
        #expect(!net.contains([1, 2, 3]))
        #expect(!net.contains([UInt8](repeating: 0, count: 5)))
        let v6 = try #require(IPNetwork("::/0"))
        #expect(!v6.contains([UInt8](repeating: 0, count: 15)))
    }

    @Test func hashableIdentity() {
        #expect(IPNetwork("10.1.2.3/8") == IPNetwork("10.0.0.0/8"))
        #expect(IPNetwork("10.0.0.0/8") != IPNetwork("10.0.0.0/9"))
        #expect(Set([IPNetwork("::1")!, IPNetwork("0:0:0:0:0:0:0:1")!]).count == 1)
    }
}
