import CortadoBase
import CortadoIO
import CortadoConfig

/// Silence: consumes bottoms so they are not net outputs; their gradients are zero.
final class SilenceLayer: Layer {
    override var minBottoms: Int? { 1 }
    override var exactNumTops: Int? { 0 }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        for (i, b) in bottom.enumerated() where propagateDown[i] { b.zeroDiff() }
    }
}
