#if canImport(Glibc)
import Glibc
#endif

/// The process's memory as Linux counts it, and the release of the file pages only starting up needed.
///
/// Starting touches code that serving never runs again: decoding the static and dynamic configuration, compiling
/// the first routing table, opening the SQLite history, making the default certificate. The kernel maps a binary's
/// code in 64 KiB windows around each page executed, so that scattered start-up code leaves most of the binary
/// resident. Once the first table is live those pages are handed back (`MADV_PAGEOUT`): the kernel drops the ones
/// no other process maps, and faults back in, from the file, whatever runs afterwards.
public enum ProcessMemory {
    /// A mapping of `/proc/self/maps` backed by a file and never written: code and read-only data.
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
    /// constants, the shared libraries'). Pages another process maps stay; anonymous and written pages are not
    /// touched. Whatever runs next faults its pages back in.
    public static func releaseStartupPages() -> Release {
        let before = residentBytes()
        var advised = 0
        #if os(Linux)
        if let maps = readProcFile("/proc/self/maps") {
            let mappings = readOnlyFileMappings(maps)
            for mapping in mappings {
                let length = Int(mapping.end - mapping.start)
                guard let address = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
                // Random access first: a page faulted in later is read alone, without read-ahead, and the
                // fault maps only the pages the cache holds; most of the released ones it no longer does.
                _ = madvise(address, length, MADV_RANDOM)
                if madvise(address, length, MADV_PAGEOUT) == 0 { advised += length }
            }
            // The kernel unmaps the pages but may keep them cached, and a fault maps the cached pages around it
            // along with it: the files' pages no process maps any more leave the cache.
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

    /// The mappings of `/proc/PID/maps` text backed by a file (a path, a non-zero inode) and not writable.
    static func readOnlyFileMappings(_ maps: String) -> [ReadOnlyFileMapping] {
        maps.split(separator: "\n").compactMap { line in
            // address perms offset dev inode [path]
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, fields[4] != "0" else { return nil }
            let path = fields[5].drop { $0 == " " }
            guard path.hasPrefix("/") else { return nil }
            let permissions = fields[1]
            guard permissions.hasPrefix("r"), !permissions.contains("w") else { return nil }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16),
                  start < end
            else { return nil }
            return ReadOnlyFileMapping(start: start, end: end, path: String(path))
        }
    }

    /// A `/proc` file's text (their size is reported as 0, so they are read to the end).
    private static func readProcFile(_ path: String) -> String? {
        #if os(Linux)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        // Bounded: /proc/self/maps of a large process is a few hundred KiB.
        for _ in 0..<1024 {
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
