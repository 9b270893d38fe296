import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoIO
@testable import CortadoSolvers

/// CIFAR-10 cannot be downloaded here, so these tests write binary batches of the real format
/// with a learnable synthetic pattern (each class its own colour and stripe direction, plus
/// noise), convert them, and train models/cifar10_quick on them.
@Suite struct CIFARTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..").standardized.path

    static func writeBatches(_ dir: String, perBatch: Int) throws {
        var rng = RNG(seed: 31)
        for name in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"] {
            var bytes: [UInt8] = []
            for _ in 0..<perBatch {
                let label = rng.below(10)
                bytes.append(UInt8(label))
                for c in 0..<3 {
                    for y in 0..<32 {
                        for x in 0..<32 {
                            let stripe = (label % 2 == 0 ? x : y) / 4 % 2 == 0 ? 60 : 0
                            let base = c == 0 ? 20 * label : (c == 1 ? 200 - 20 * label : 100)
                            bytes.append(UInt8(max(0, min(255, base + stripe + rng.below(30)))))
                        }
                    }
                }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/\(name).bin"))
        }
    }

    @Test func convertsLikeCaffe() throws {
        let dir = temporaryDirectory()
        try Self.writeBatches(dir, perBatch: 4)
        let (train, test) = try CIFAR.convert(batches: dir, to: dir)
        #expect(train == 20 && test == 4)
        let db = try LMDB.openForReading("\(dir)/cifar10_train_lmdb")
        #expect(db.count == 20)
        #expect(try db.first() && db.currentKey == "00000")
        let raw = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/data_batch_1.bin"))
        let d = try Datum.decode(db.currentValue, source: "first")
        #expect(d.label == Int(raw[0]) && d.data == [UInt8](raw[1..<3073]) && (d.channels, d.height, d.width) == (3, 32, 32))
        try Data(raw.prefix(100)).write(to: URL(fileURLWithPath: "\(dir)/data_batch_1.bin"))
        #expect(throws: DataError.self) { _ = try CIFAR.read("\(dir)/data_batch_1.bin") }
    }

    @Test func cifar10QuickLearnsASyntheticCIFAR() throws {
        quietTestEnvironment()
        let dir = temporaryDirectory()
        try Self.writeBatches(dir, perBatch: 40)
        _ = try CIFAR.convert(batches: dir, to: dir)
        let (mean, _, _) = try ImageSet.mean(db: "\(dir)/cifar10_train_lmdb")
        try CaffeBinary.atomicWrite(CaffeBinary.encodeBlob(mean, legacy4D: true), to: "\(dir)/mean.binaryproto")
        let net = try String(contentsOfFile: Self.repo + "/models/cifar10_quick/cifar10_quick_train_test.prototxt", encoding: .utf8)
            .replacingOccurrences(of: "data/cifar10/", with: dir + "/")
            .replacingOccurrences(of: "batch_size: 100", with: "batch_size: 20")
        try write(net, to: "\(dir)/net.prototxt")
        let solver = try String(contentsOfFile: Self.repo + "/solvers/cifar10_quick_solver.prototxt", encoding: .utf8)
            .replacingOccurrences(of: "models/cifar10_quick/cifar10_quick_train_test.prototxt", with: "\(dir)/net.prototxt")
            .replacingOccurrences(of: "test_iter: 100", with: "test_iter: 2")
            .replacingOccurrences(of: "snapshots/", with: dir + "/")
        try write(solver, to: "\(dir)/solver.prototxt")
        let s = try Solver(try SolverParameter.load(file: "\(dir)/solver.prototxt"), verbose: false)
        var losses: [Float] = []
        s.observers.append { if case .iteration(_, _, let loss, _) = $0 { losses.append(loss) } }
        try s.step(120)
        // Learning shows as a stretch of low loss: on 200 synthetic images the net memorises
        // them, and the end of the run is chaotic (a spike after the loss nears 0 came or went
        // with a change of rounding in conv1's gradient), so the end alone proves nothing.
        let first = losses.prefix(5).reduce(0, +) / 5
        let best = (0...(losses.count - 10)).map { losses[$0..<($0 + 10)].reduce(0, +) / 10 }.min() ?? .infinity
        #expect(losses.allSatisfy { $0.isFinite })
        #expect(best < first * 0.5, "loss \(first) → best 10-iteration mean \(best)")
    }
}
