#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Tells when anything under a directory changes, with inotify: writes, creations, deletions and the renames
/// editors do when they save (write to a temporary file, rename it over the original).
final class DirectoryWatcher: @unchecked Sendable {
    // The descriptor is only used from the task that calls `waitForChange`.
    private let descriptor: Int32
    private let root: String
    private var watched = Set<String>()
    /// Where `drain` reads events into, made once: the directory is polled 40 times a second.
    private var events = [UInt8](repeating: 0, count: 4096)

    /// nil when inotify is not available; callers fall back to polling.
    init?(root: String) {
        #if canImport(Glibc)
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        descriptor = fd
        self.root = root
        addWatches()
        #else
        return nil
        #endif
    }

    deinit {
        close(descriptor)
    }

    /// Watches `root` and every directory below it (new directories are picked up on each change).
    private func addWatches() {
        #if canImport(Glibc)
        let mask = UInt32(IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_ATTRIB
            | IN_DELETE_SELF | IN_MOVE_SELF)
        var directories = [root]
        if let enumerator = FileManager.default.enumerator(atPath: root) {
            for case let relative as String in enumerator {
                let path = (root as NSString).appendingPathComponent(relative)
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                    directories.append(path)
                }
            }
        }
        for directory in directories where !watched.contains(directory) {
            if inotify_add_watch(descriptor, directory, mask) >= 0 { watched.insert(directory) }
        }
        #endif
    }

    /// Drains pending events; true when there were any.
    private func drain() -> Bool {
        var sawEvent = false
        while true {
            let count = events.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            sawEvent = true
        }
        return sawEvent
    }

    /// Returns after something changed, once no further event arrived for `settle` (so a burst of writes is one
    /// change). Throws when the task is cancelled.
    func waitForChange(pollEvery: Duration = .milliseconds(25), settle: Duration = .milliseconds(50)) async throws {
        while !drain() {
            try await Task.sleep(for: pollEvery)
            if !FileManager.default.fileExists(atPath: root) { return }
        }
        // Let a burst of writes finish, but never wait more than a few rounds: a file rewritten without pause is
        // still read regularly (the throttle window then limits how often the table is rebuilt).
        var rounds = 0
        repeat {
            try await Task.sleep(for: settle)
            rounds += 1
        } while drain() && rounds < 8
        addWatches()
    }
}
