import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers

/// The running sums of a net's outputs over test batches, and their means: what Caffe's
/// Solver::Test and `caffe test` print. One place for both `Solver.test` and `cortado test`.
package struct TestScores {
    /// One output element: the blob's name, the sum over batches so far and its loss weight.
    package struct Output {
        package let name: String
        package let lossWeight: Float
        package fileprivate(set) var sum: Float
    }

    package private(set) var outputs: [Output] = []
    package private(set) var batches = 0

    package init() {}

    /// Adds the net's current outputs (after a forward pass). An output whose size changed
    /// since the first batch cannot be averaged element by element, so that is an error.
    package mutating func add(_ net: Net) throws {
        var k = 0
        for id in net.outputBlobIDs {
            let b = net.namedBlobs[id].blob, name = net.namedBlobs[id].name
            if batches == 0 {
                let weight = net.lossWeight(of: id)
                for j in 0..<b.count { outputs.append(Output(name: name, lossWeight: weight, sum: b.data[j])) }
            } else {
                let end = k + b.count
                guard end <= outputs.count, outputs[k..<end].allSatisfy({ $0.name == name }), end == outputs.count || outputs[end].name != name else {
                    throw NetError("test output \(name) changed size between batches; only outputs of a fixed size (losses, accuracies) can be averaged")
                }
                for j in 0..<b.count { outputs[k + j].sum += b.data[j] }
            }
            k += b.count
        }
        batches += 1
    }

    /// Each output element's mean over the batches added.
    package var means: [(name: String, value: Float, lossWeight: Float)] {
        outputs.map { ($0.name, $0.sum / Float(max(batches, 1)), $0.lossWeight) }
    }

    /// `accuracy = 0.89` or `loss = 0.3 (* 1 = 0.3 loss)`, one line per output element.
    package var lines: [String] {
        means.map { o in
            let note = o.lossWeight != 0 ? " (* \(caffeFloat(o.lossWeight)) = \(caffeFloat(o.lossWeight * o.value)) loss)" : ""
            return "\(o.name) = \(caffeFloat(o.value))\(note)"
        }
    }
}
