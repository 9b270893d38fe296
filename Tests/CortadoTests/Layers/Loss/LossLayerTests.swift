import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoIO

@Suite struct LossLayerTests {
    @Test func sigmoidCrossEntropy() throws {
        let x = Blob([2, 1], values: [0, 2]), t = Blob([2, 1], values: [1, 0])
        let (layer, tops) = try makeLayer(#"name: "l" type: "SigmoidCrossEntropyLoss" bottom: "x" bottom: "t" top: "loss""#, bottoms: [x, t])
        try layer.forward(bottom: [x, t], top: tops)
        // BATCH_SIZE: (−log σ(0) − log(1 − σ(2))) / 2
        expectClose(tops[0].dataArray, [(logf(2) + logf(1 + expf(2))) / 2])
        let r = randomBlob([3, 4], seed: 101, lo: -3, hi: 3)
        var rng = RNG(seed: 9)
        let targets = Blob([3, 4], values: (0..<12).map { _ in rng.uniform() })
        let (l2, t2) = try makeLayer(#"name: "l" type: "SigmoidCrossEntropyLoss" bottom: "x" bottom: "t" top: "loss""#, bottoms: [r, targets])
        try GradientChecker().check(l2, bottoms: [r, targets], tops: t2, checkBottoms: [0])
    }

    @Test(arguments: ["L1", "L2"]) func hinge(norm: String) throws {
        let x = Blob([1, 3], values: [0.5, 2, -1]), label = Blob([1], values: [1])
        let (layer, tops) = try makeLayer(#"name: "l" type: "HingeLoss" bottom: "x" bottom: "y" top: "loss" hinge_loss_param { norm: \#(norm) }"#, bottoms: [x, label])
        try layer.forward(bottom: [x, label], top: tops)
        // margins: 1 + 0.5 = 1.5, max(0, 1 − 2) = 0, max(0, 1 − 1) = 0
        #expect(tops[0].dataArray == [norm == "L1" ? 1.5 : 2.25])
        let r = randomBlob([4, 5], seed: 102, lo: -2, hi: 2)
        let labels = Blob([4], values: [0, 3, 4, 1])
        let (l2, t2) = try makeLayer(#"name: "l" type: "HingeLoss" bottom: "x" bottom: "y" top: "loss" hinge_loss_param { norm: \#(norm) }"#, bottoms: [r, labels])
        try GradientChecker().check(l2, bottoms: [r, labels], tops: t2, checkBottoms: [0])
    }

    @Test(arguments: [false, true]) func contrastive(legacy: Bool) throws {
        let a = Blob([2, 2], values: [0, 0, 1, 0]), b = Blob([2, 2], values: [3, 4, 1, 0.5]), y = Blob([2], values: [1, 0])
        let (layer, tops) = try makeLayer(#"name: "l" type: "ContrastiveLoss" bottom: "a" bottom: "b" bottom: "y" top: "loss" contrastive_loss_param { margin: 1 legacy_version: \#(legacy) }"#, bottoms: [a, b, y])
        try layer.forward(bottom: [a, b, y], top: tops)
        // similar pair d² = 25; dissimilar pair d = 0.5: (1 − 0.5)² = 0.25, or legacy 1 − 0.25 = 0.75
        expectClose(tops[0].dataArray, [(25 + (legacy ? 0.75 : 0.25)) / 4])
        let p = randomBlob([4, 3], seed: 103, lo: -0.3, hi: 0.3), q = randomBlob([4, 3], seed: 104, lo: -0.3, hi: 0.3)
        let sim = Blob([4], values: [1, 0, 0, 1])
        let (l2, t2) = try makeLayer(#"name: "l" type: "ContrastiveLoss" bottom: "a" bottom: "b" bottom: "y" top: "loss" contrastive_loss_param { margin: 2 legacy_version: \#(legacy) }"#, bottoms: [p, q, sim])
        try GradientChecker().check(l2, bottoms: [p, q, sim], tops: t2, checkBottoms: [0, 1])
    }

    @Test func multinomialLogistic() throws {
        let p = Blob([2, 2], values: [0.25, 0.75, 0.5, 0.5]), label = Blob([2], values: [1, 0])
        let (layer, tops) = try makeLayer(#"name: "l" type: "MultinomialLogisticLoss" bottom: "p" bottom: "y" top: "loss""#, bottoms: [p, label])
        try layer.forward(bottom: [p, label], top: tops)
        expectClose(tops[0].dataArray, [-(logf(0.75) + logf(0.5)) / 2])
        let r = randomBlob([3, 4], seed: 105, lo: 0.2, hi: 1)
        let (l2, t2) = try makeLayer(#"name: "l" type: "MultinomialLogisticLoss" bottom: "p" bottom: "y" top: "loss""#, bottoms: [r, Blob([3], values: [0, 2, 3])])
        try GradientChecker().check(l2, bottoms: [r, Blob([3], values: [0, 2, 3])], tops: t2, checkBottoms: [0])
    }

    @Test func infogainWithIdentityIsSoftmaxLoss() throws {
        let x = randomBlob([3, 4], seed: 106, lo: -2, hi: 2), label = Blob([3], values: [0, 3, 1])
        let identity = Blob([4, 4], values: (0..<16).map { $0 % 5 == 0 ? 1 : 0 })
        let (info, ti) = try makeLayer(#"name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" bottom: "h" top: "loss""#, bottoms: [x, label, identity])
        let (soft, ts) = try makeLayer(#"name: "l" type: "SoftmaxWithLoss" bottom: "x" bottom: "y" top: "loss""#, bottoms: [x, label])
        try info.forward(bottom: [x, label, identity], top: ti)
        try soft.forward(bottom: [x, label], top: ts)
        expectClose(ti[0].dataArray, ts[0].dataArray)
        var rng = RNG(seed: 4)
        let h = Blob([4, 4], values: (0..<16).map { _ in rng.uniform(0, 1) })
        let (l2, t2) = try makeLayer(#"name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" bottom: "h" top: "loss""#, bottoms: [x, label, h])
        try GradientChecker().check(l2, bottoms: [x, label, h], tops: t2, checkBottoms: [0])
        let dir = temporaryDirectory()
        try CaffeBinary.atomicWrite(CaffeBinary.encodeBlob(identity), to: "\(dir)/H.binaryproto")
        let (fromFile, tf) = try makeLayer(#"name: "l" type: "InfogainLoss" bottom: "x" bottom: "y" top: "loss" infogain_loss_param { source: "\#(dir)/H.binaryproto" }"#, bottoms: [x, label])
        try fromFile.forward(bottom: [x, label], top: tf)
        expectClose(tf[0].dataArray, ts[0].dataArray)
    }
}
