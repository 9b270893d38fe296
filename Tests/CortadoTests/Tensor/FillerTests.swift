import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoConfig

@Suite struct FillerTests {
    func filler(_ text: String) throws -> FillerParameter {
        var p = TextFormatParser(text: text, file: "f.prototxt")
        return try FillerParameter(try ConfigNode.validated(try p.parseTopLevel(), as: "FillerParameter"))
    }

    func fill(_ text: String, _ shape: [Int], seed: UInt64 = 1) throws -> [Float] {
        let b = Blob(shape)
        var rng = RNG(seed: seed)
        try filler(text).fill(b, &rng)
        return b.dataArray
    }

    func meanStd(_ v: [Float]) -> (Float, Float) {
        let m = v.reduce(0, +) / Float(v.count)
        let s = (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Float(v.count)).squareRoot()
        return (m, s)
    }

    @Test func constantIsTheDefault() throws {
        #expect(try fill("", [3]) == [0, 0, 0])
        #expect(try fill("type: \"constant\" value: 2.5", [2]) == [2.5, 2.5])
    }

    @Test func uniformStaysInRange() throws {
        let v = try fill("type: \"uniform\" min: -2 max: 3", [5000])
        #expect(v.allSatisfy { $0 >= -2 && $0 < 3 })
        #expect(abs(meanStd(v).0 - 0.5) < 0.1)
    }

    @Test func gaussianMeanAndStd() throws {
        let (m, s) = meanStd(try fill("type: \"gaussian\" mean: 1 std: 0.5", [20000]))
        #expect(abs(m - 1) < 0.02)
        #expect(abs(s - 0.5) < 0.02)
    }

    @Test func sparseGaussianKeepsAboutSparseOverOutputs() throws {
        // 100 outputs, sparse 10: each weight is kept with probability 0.1.
        let v = try fill("type: \"gaussian\" sparse: 10", [100, 200])
        let kept = Float(v.filter { $0 != 0 }.count) / Float(v.count)
        #expect(abs(kept - 0.1) < 0.01)
    }

    @Test func xavierAndMsraScaleByFan() throws {
        // fan_in = count / shape[0] = 4·3·3 = 36; fan_out = count / shape[1] = 50·3·3 = 450.
        let x = try fill("type: \"xavier\"", [50, 4, 3, 3])
        let limit = (3 / Float(36)).squareRoot()
        #expect(x.allSatisfy { abs($0) <= limit })
        #expect(x.contains { abs($0) > limit * 0.9 })
        let xo = try fill("type: \"xavier\" variance_norm: FAN_OUT", [50, 4, 3, 3])
        #expect(xo.allSatisfy { abs($0) <= (3 / Float(450)).squareRoot() })
        let (_, s) = meanStd(try fill("type: \"msra\" variance_norm: AVERAGE", [200, 50, 3, 3]))
        let n = (Float(450) + Float(1800)) / 2
        #expect(abs(s - (2 / n).squareRoot()) < 0.003)
    }

    @Test func positiveUnitballRowsSumToOne() throws {
        let v = try fill("type: \"positive_unitball\"", [4, 6])
        #expect(v.allSatisfy { $0 >= 0 })
        for r in 0..<4 { #expect(abs(v[(r * 6)..<(r * 6 + 6)].reduce(0, +) - 1) < 1e-5) }
    }

    @Test func bilinearUpsamplingKernel() throws {
        // Kernel 4 (factor 2): f = 2, c = 0.75; 1-D weights 0.25, 0.75, 0.75, 0.25.
        let v = try fill("type: \"bilinear\"", [1, 1, 4, 4])
        let w: [Float] = [0.25, 0.75, 0.75, 0.25]
        let expected = (0..<16).map { w[$0 / 4] * w[$0 % 4] }
        expectClose(v, expected)
    }

    @Test func badFillersAreConfigErrors() {
        #expect(throws: ConfigError.self) { _ = try filler("type: \"xaviar\"") }
        #expect(throws: ConfigError.self) { _ = try filler("type: \"uniform\" sparse: 3") }
    }

    @Test func sameSeedSameValues() throws {
        #expect(try fill("type: \"gaussian\"", [50], seed: 9) == fill("type: \"gaussian\"", [50], seed: 9))
        #expect(try fill("type: \"gaussian\"", [50], seed: 9) != fill("type: \"gaussian\"", [50], seed: 10))
    }
}
