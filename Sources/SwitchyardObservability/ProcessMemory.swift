#if canImport(Glibc)
import Glibc
#endif

/// The process's memory as Linux counts it, and the release of the file pages only starting up needed.
///
/// Starting touches code that serving never runs again: decoding the static and dynamic configuration, compiling
/// the first routing table, opening the SQLite history, making the default certificate. The kernel maps a binary's
/// code in 64 KiB windows around each page executed, so that scattered start-up code leaves most of the binary
/// resident. Once the first table is live those pages are handed back (`MADV_PAGEOUT`): the kernel drops the ones
/// no other process maps, and faults back in, from the file, whatever runs afterwards. The kernel pages out only
/// the pages of files the process owns or may write: a binary owned by another user (root's, run by a service
/// user) keeps its pages.
public enum ProcessMemory {
    /// A private mapping of `/proc/self/smaps` backed by a file, read-only and holding no anonymous page: code and
    /// constants (relocated read-only data, whose pages are the process's own copies, is left out).
    struct ReadOnlyFileMapping: Equatable {
        let start: UInt
        let end: UInt
        let path: String
    }

    /// What `releaseStartupPages` did.
    public struct Release: Sendable {
        /// Bytes of mappings the kernel was asked to reclaim.
        public let advised: Int
        /// Resident set before and after, in bytes (nil without `/proc`).
        public let residentBefore: Int?
        public let residentAfter: Int?
    }

    /// `VmRSS` of `/proc/self/status`, in bytes; nil where it cannot be read.
    public static func residentBytes() -> Int? {
        guard let status = readProcFile("/proc/self/status") else { return nil }
        return residentBytes(status: status)
    }

    /// Asks the kernel to reclaim the pages of the process's read-only file mappings (the binary's code and
    /// constants, the shared libraries'). Pages another process maps stay; mappings holding anonymous or written
    /// pages are left alone. Whatever runs next faults its pages back in.
    public static func releaseStartupPages() -> Release {
        let before = residentBytes()
        var advised = 0
        #if os(Linux)
        if let smaps = readProcFile("/proc/self/smaps") {
            let mappings = readOnlyFileMappings(smaps)
            for mapping in mappings {
                let length = Int(mapping.end - mapping.start)
                guard let address = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
                if madvise(address, length, MADV_PAGEOUT) == 0 { advised += length }
            }
            // The kernel unmaps the pages but may keep them cached, and a fault maps the cached pages around it
            // along with it: the files' pages no process maps any more leave the cache (for every process).
            for path in Set(mappings.map(\.path)) {
                // Regular files only: opening a device can act on it.
                var status = stat()
                guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
                let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
                guard descriptor >= 0 else { continue }
                _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
                close(descriptor)
            }
        }
        #endif
        return Release(advised: advised, residentBefore: before, residentAfter: residentBytes())
    }

    static func residentBytes(status: String) -> Int? {
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, let value = Int(fields[1]), fields[2] == "kB" else { return nil }
            return value * 1024
        }
        return nil
    }

    /// The mappings of `/proc/PID/smaps` text backed by an existing file (a path, a non-zero inode), private, not
    /// writable, and whose `Anonymous:` line says 0 kB.
    static func readOnlyFileMappings(_ smaps: String) -> [ReadOnlyFileMapping] {
        var mappings: [ReadOnlyFileMapping] = []
        var candidate: ReadOnlyFileMapping?
        for line in smaps.split(separator: "\n") {
            // address perms offset dev inode [path], then `Key: value` lines
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.hasSuffix(":") {
                if first == "Anonymous:", let mapping = candidate {
                    if fields.count >= 2, fields[1] == "0" { mappings.append(mapping) }
                    candidate = nil
                }
                continue
            }
            candidate = nil
            guard fields.count == 6, fields[4] != "0", fields[1] == "r-xp" || fields[1] == "r--p" else { continue }
            let path = fields[5].drop { $0 == " " }
            guard path.hasPrefix("/"), !path.hasSuffix(" (deleted)") else { continue }
            let range = first.split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16),
                start < end
            else { continue }
            candidate = ReadOnlyFileMapping(start: start, end: end, path: String(path))
        }
        return mappings
    }

    /// A `/proc` file's text (their size is reported as 0, so they are read to the end).
    private static func readProcFile(_ path: String) -> String? {
        #if os(Linux)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        // Bounded: /proc/self/smaps of a large process is a few MiB.
        for _ in 0..<4096 {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
        #else
        return nil
        #endif
    }
}
