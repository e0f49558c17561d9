import Foundation
import Testing

@testable import SwitchyardConfig

@Suite struct InternetTimeTests {
    @Test func rfc3339InUTC() {
        #expect(InternetTime.rfc3339(0) == "1970-01-01T00:00:00Z")
        #expect(InternetTime.rfc3339(1_796_104_800) == "2026-12-01T06:00:00Z")
        #expect(InternetTime.rfc3339(951_782_400) == "2000-02-29T00:00:00Z")
        #expect(InternetTime.rfc3339(1_796_104_800.1239, milliseconds: true) == "2026-12-01T06:00:00.123Z")
        #expect(InternetTime.rfc3339(1_796_104_800, milliseconds: true) == "2026-12-01T06:00:00.000Z")
        #expect(InternetTime.rfc3339(-1) == "1969-12-31T23:59:59Z")
        #expect(InternetTime.rfc3339(.nan) == "1970-01-01T00:00:00Z")
    }

    @Test func agreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        for seconds in stride(from: 0.0, to: 4_102_444_800, by: 86_399_917) {
            #expect(InternetTime.rfc3339(seconds) == formatter.string(from: Date(timeIntervalSince1970: seconds)))
        }
    }

    @Test func commonLogFormat() {
        #expect(InternetTime.commonLog(1_796_104_800) == "01/Dec/2026:06:00:00 +0000")
        #expect(InternetTime.commonLog(1_781_000_245.9) == "09/Jun/2026:10:17:25 +0000")
    }
}
