import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Base of element-wise layers with one bottom and one top of the same shape (may be in place).
class NeuronLayer: Layer {
    override var graphColour: String? { "#ccff90" }
    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }

    /// True for layers whose gradient needs the input x, which working in place overwrites.
    var needsInputForGradient: Bool { false }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        if top[0] === bottom[0] {
            if needsInputForGradient { throw error("\(type) cannot work in place (its gradient needs the input); give its top another name") }
        } else {
            try top[0].reshape(bottom[0].shape)
        }
    }
}
