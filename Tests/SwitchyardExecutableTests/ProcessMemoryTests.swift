import Testing

@testable import SwitchyardObservability

@Suite struct ProcessMemoryTests {
    static let smaps = """
        55d0c0a00000-55d0c0c00000 r--p 00000000 fe:00 16408700                   /usr/local/bin/switchyard
        Rss:                 800 kB
        Anonymous:             0 kB
        55d0c0c00000-55d0c3c00000 r-xp 00200000 fe:00 16408700                   /usr/local/bin/switchyard
        Anonymous:             0 kB
        55d0c3c00000-55d0c3c80000 r--p 03200000 fe:00 16408700                   /usr/local/bin/switchyard
        Anonymous:           468 kB
        55d0c3c80000-55d0c3d00000 rw-p 03280000 fe:00 16408700                   /usr/local/bin/switchyard
        Anonymous:             4 kB
        55d0c3d00000-55d0c3e00000 rw-p 00000000 00:00 0                          [heap]
        Anonymous:           652 kB
        7f0000000000-7f0000021000 rw-p 00000000 00:00 0
        Anonymous:            12 kB
        7f1000000000-7f1000100000 r-xp 00028000 fe:00 1234                       /usr/lib/x86_64-linux-gnu/lib c.so.6
        Anonymous:             0 kB
        7f2000000000-7f2000001000 r--s 00000000 00:05 99                         /dev/shm/shared
        Anonymous:             0 kB
        7f3000000000-7f3000001000 r--p 00000000 00:05 98                         /tmp/gone (deleted)
        Anonymous:             0 kB
        7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]
        Anonymous:             0 kB
        zz-yy r-xp 00000000 fe:00 1 /broken
        Anonymous:             0 kB
        """

    @Test func releasedMappingsAreFilesCodeAndConstantsWithNoPageOfTheirOwn() {
        let mappings = ProcessMemory.readOnlyFileMappings(Self.smaps)
        // Not: relocated read-only data (anonymous pages), writable, shared, deleted, anonymous, special, malformed.
        #expect(mappings == [
            .init(start: 0x55d0_c0a0_0000, end: 0x55d0_c0c0_0000, path: "/usr/local/bin/switchyard"),
            .init(start: 0x55d0_c0c0_0000, end: 0x55d0_c3c0_0000, path: "/usr/local/bin/switchyard"),
            .init(start: 0x7f10_0000_0000, end: 0x7f10_0010_0000, path: "/usr/lib/x86_64-linux-gnu/lib c.so.6"),
        ])
    }

    @Test func residentSetFromStatus() {
        let status = "Name:\tswitchyard\nVmPeak:\t  100 kB\nVmRSS:\t   53860 kB\nRssAnon:\t    7768 kB\n"
        #expect(ProcessMemory.residentBytes(status: status) == 53860 * 1024)
        #expect(ProcessMemory.residentBytes(status: "Name:\tx\n") == nil)
        #expect(ProcessMemory.residentBytes(status: "VmRSS:\tmany kB\n") == nil)
    }
}
