import Foundation
import SwitchyardFuzzTargets
import Testing

/// Replays the committed fuzzing corpus (`Tests/Fuzz/corpus/<target>/`): every input ends in a value or an error.
@Suite struct CorpusReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus")

    @Test(arguments: FuzzTarget.allCases)
    func replays(_ target: FuzzTarget) throws {
        let folder = Self.corpus.appendingPathComponent(target.rawValue)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(files.count >= 3, "a corpus for \(target.rawValue)")
        for file in files {
            let data = try Data(contentsOf: folder.appendingPathComponent(file))
            target.run(Array(data))
        }
    }
}
