// The fuzzing entry point. Built by `scripts/fuzz` with `-sanitize=fuzzer` and `-D FUZZING`, libFuzzer brings its
// own `main` and drives `LLVMFuzzerTestOneInput` with the target named by SWITCHYARD_FUZZ_TARGET. Built normally, it
// replays files: `switchyard-fuzz <target> <file or folder>...`.
import Foundation
import SwitchyardFuzzTargets

#if FUZZING
let fuzzTarget = FuzzTarget(rawValue: ProcessInfo.processInfo.environment["SWITCHYARD_FUZZ_TARGET"] ?? "") ?? .rule

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzTarget.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// libFuzzer's driver, run from the executable's entry point (the package manager names it for this target and
/// points `main` at it, so libFuzzer's own `main` is not linked).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("switchyard_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var values = argv
    return runFuzzerDriver(&count, &values) { data, size in fuzzOne(data, size) }
}
#else
@main
struct Replay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("usage: switchyard-fuzz rule|labels|config <file or folder>...\n".utf8))
            exit(2)
        }
        var count = 0
        for path in arguments.dropFirst() {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { continue }
            let files = isFolder.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 } : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                target.run(Array(data))
                count += 1
            }
        }
        print("\(name): \(count) inputs, no crash")
    }
}
#endif
