import Foundation

/// Base of element-wise layers with one bottom and one top of the same shape (may be in place).
class NeuronLayer: Layer {
    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        if top[0] !== bottom[0] { top[0].reshape(bottom[0].shape) }
    }
}
