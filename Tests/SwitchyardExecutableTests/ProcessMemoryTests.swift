import Testing

@testable import SwitchyardObservability

@Suite struct ProcessMemoryTests {
    static let maps = """
        55d0c0a00000-55d0c0c00000 r--p 00000000 fe:00 16408700                   /usr/local/bin/switchyard
        55d0c0c00000-55d0c3c00000 r-xp 00200000 fe:00 16408700                   /usr/local/bin/switchyard
        55d0c3c00000-55d0c3d00000 rw-p 03200000 fe:00 16408700                   /usr/local/bin/switchyard
        55d0c3d00000-55d0c3e00000 rw-p 00000000 00:00 0                          [heap]
        7f0000000000-7f0000021000 rw-p 00000000 00:00 0
        7f1000000000-7f1000100000 r-xp 00028000 fe:00 1234                       /usr/lib/x86_64-linux-gnu/libc.so.6
        7f2000000000-7f2000001000 r--s 00000000 00:05 99                         /dev/shm/a file (deleted)
        7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]
        zz-yy r-xp 00000000 fe:00 1 /broken
        """

    @Test func readOnlyFileMappingsAreTheBinarysAndLibrariesCodeAndConstants() {
        let mappings = ProcessMemory.readOnlyFileMappings(Self.maps)
        #expect(mappings == [
            .init(start: 0x55d0_c0a0_0000, end: 0x55d0_c0c0_0000, path: "/usr/local/bin/switchyard"),
            .init(start: 0x55d0_c0c0_0000, end: 0x55d0_c3c0_0000, path: "/usr/local/bin/switchyard"),
            .init(start: 0x7f10_0000_0000, end: 0x7f10_0010_0000, path: "/usr/lib/x86_64-linux-gnu/libc.so.6"),
            .init(start: 0x7f20_0000_0000, end: 0x7f20_0000_1000, path: "/dev/shm/a file (deleted)"),
        ])
    }

    @Test func residentSetFromStatus() {
        let status = "Name:\tswitchyard\nVmPeak:\t  100 kB\nVmRSS:\t   53860 kB\nRssAnon:\t    7768 kB\n"
        #expect(ProcessMemory.residentBytes(status: status) == 53860 * 1024)
        #expect(ProcessMemory.residentBytes(status: "Name:\tx\n") == nil)
        #expect(ProcessMemory.residentBytes(status: "VmRSS:\tmany kB\n") == nil)
    }

    #if os(Linux)
    @Test func releasingThisProcesssStartupPagesKeepsItRunning() {
        let release = ProcessMemory.releaseStartupPages()
        #expect(release.advised > 0)
        #expect((release.residentBefore ?? 0) > 0)
        // Code runs on after its pages were handed back: they fault in again.
        #expect(ProcessMemory.readOnlyFileMappings(Self.maps).count == 4)
        #expect((ProcessMemory.residentBytes() ?? 0) > 0)
    }
    #endif
}
