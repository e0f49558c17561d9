#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The wall clock, read without Foundation.
public enum WallClock {
    /// Seconds since 1970.
    public static func seconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

/// Timestamps as the API, the logs and the access log write them, always in UTC, formatted by hand: Foundation's
/// date formatters load ICU's calendar, time-zone and locale data (megabytes of resident memory) for a fixed format.
public enum InternetTime {
    /// RFC 3339: `2026-12-01T06:00:00Z`, or `2026-12-01T06:00:00.123Z` with milliseconds.
    public static func rfc3339(_ secondsSince1970: Double, milliseconds: Bool = false) -> String {
        let (time, millis) = split(secondsSince1970)
        var text = "\(pad(time.tm_year + 1900, 4))-\(pad(time.tm_mon + 1))-\(pad(time.tm_mday))"
        text += "T\(pad(time.tm_hour)):\(pad(time.tm_min)):\(pad(time.tm_sec))"
        if milliseconds { text += ".\(pad(millis, 3))" }
        return text + "Z"
    }

    /// The Common Log Format's time: `01/Dec/2026:06:00:00 +0000`.
    public static func commonLog(_ secondsSince1970: Double) -> String {
        let (time, _) = split(secondsSince1970)
        let month = months[Int(time.tm_mon)]
        return "\(pad(time.tm_mday))/\(month)/\(pad(time.tm_year + 1900, 4)):\(pad(time.tm_hour)):\(pad(time.tm_min)):\(pad(time.tm_sec)) +0000"
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The broken-down UTC time of the whole seconds, and the milliseconds past them.
    private static func split(_ secondsSince1970: Double) -> (tm, Int32) {
        let value = secondsSince1970.isFinite ? secondsSince1970 : 0
        let whole = value.rounded(.down)
        var seconds = time_t(whole)
        var broken = tm()
        gmtime_r(&seconds, &broken)
        return (broken, Int32(min(999, ((value - whole) * 1000).rounded(.down))))
    }

    private static func pad(_ value: Int32, _ width: Int = 2) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
