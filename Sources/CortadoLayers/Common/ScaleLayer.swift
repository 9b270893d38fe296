import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's ScaleParameter: the scale starts at 1 unless a filler says otherwise.
package struct ScaleParameter: LayerSettings {
    package static let field = "scale_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "axis:int num_axes:int filler:@FillerParameter bias_term:bool bias_filler:@FillerParameter"
    package var axis = 1
    /// How many bottom axes the scale covers from `axis`; −1: all the rest.
    package var numAxes = 1
    var filler = FillerParameter(type: .constant, value: 1)
    package var biasTerm = false
    var biasFiller = FillerParameter()

    package init(_ p: ConfigNode) throws {
        axis = p.int("axis") ?? axis
        numAxes = p.int("num_axes") ?? numAxes
        if let f = p.child("filler") { filler = try FillerParameter(f) }
        biasTerm = p.bool("bias_term") ?? biasTerm
        biasFiller = try FillerParameter(p.child("bias_filler"))
    }
}

/// Scale: y = x · s (+ b), s and b of the shape of bottom axes axis…axis+num_axes, broadcast
/// over the rest. s is a learnable blob (filler default 1), or a second bottom.
final class ScaleLayer: Layer {
    private var axis = 1, outer = 1, dim = 1, inner = 1
    private(set) var fromBottom = false
    let settings: ScaleParameter
    private var biasTerm: Bool { settings.biasTerm }
    /// A copy of the input when working in place (the scale's gradient needs x).
    private let input = Blob()
    /// Set by the fused BatchNorm + Scale kernel, which skips the copy: the input the last
    /// forward pass scaled is this blob's data (the BatchNorm's normalised output).
    var inputHeldBy: Blob?

    override var minBottoms: Int? { 1 }
    override var maxBottoms: Int? { 2 }
    override var exactNumTops: Int? { 1 }

    /// × gamma (+ beta): the parameter, or the second bottom, broadcast from `axis` (`scaleOrBias`).
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        try graph.scaleOrBias(self, inputs, isScale: true, axis: settings.axis, numAxes: settings.numAxes, biasTerm: settings.biasTerm)
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        fromBottom = bottom.count == 2
        let shape = try BiasLayer.paramShape(bottom[0], second: fromBottom ? bottom[1] : nil, axis: settings.axis, numAxes: settings.numAxes, layer: self)
        if !fromBottom {
            let s = try Blob(checked: shape)
            context.fill(s, with: settings.filler)
            blobs.append(s)
        }
        if biasTerm {
            let b = try Blob(checked: shape)
            context.fill(b, with: settings.biasFiller)
            blobs.append(b)
        }
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let scale = fromBottom ? bottom[1] : blobs[0]
        (axis, outer, dim, inner) = try BiasLayer.split(bottom[0], by: scale, axis: settings.axis, layer: self)
        if top[0] !== bottom[0] { try top[0].reshape(bottom[0].shape) } else { try input.reshape(bottom[0].shape) }
    }

    /// Planes (one `inner` run of one scale entry) go to threads whole; the gradients of the
    /// scale and bias go by entry, each summed over the batch in order, so the bits are the
    /// same for any thread count.
    package override func forward(bottom: [Blob], top: [Blob]) throws {
        inputHeldBy = nil
        if top[0] === bottom[0] { input.copyData(from: bottom[0]) }
        let x = UnsafePointer(bottom[0].data), y = top[0].data
        let s = (fromBottom ? bottom[1] : blobs[0]).data
        let b: UnsafeMutablePointer<Float>? = biasTerm ? blobs[fromBottom ? 0 : 1].data : nil
        let (dim, inner) = (dim, inner)
        Parallel.forItems(outer * dim, threads: threads, work: bottom[0].count) { planes in
            for plane in planes {
                let d = plane % dim, k = s[d], c = b?[d] ?? 0, xp = x + plane * inner, yp = y + plane * inner
                var i = 0
                while i < inner { yp[i] = xp[i] * k + c; i &+= 1 }
            }
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        let x = UnsafePointer(inputHeldBy?.data ?? (top[0] === bottom[0] ? input.data : bottom[0].data))
        let dy = UnsafePointer(top[0].diff)
        let scaleBlob = fromBottom ? bottom[1] : blobs[0]
        let wantScale = fromBottom ? propagateDown[1] : needsParamGradient(0)
        let wantBias = biasTerm && needsParamGradient(fromBottom ? 0 : 1)
        let (outer, dim, inner) = (outer, dim, inner), work = top[0].count
        if wantScale || wantBias {
            if wantScale && fromBottom { scaleBlob.zeroDiff() }
            let ds = scaleBlob.diff, db = biasTerm ? blobs[fromBottom ? 0 : 1].diff : ds
            Parallel.forItems(dim, threads: threads, work: work) { entries in
                for d in entries {
                    for o in 0..<outer {
                        let base = (o * dim + d) * inner
                        if wantScale { ds[d] += Lanes.dot(dy + base, x + base, count: inner) }
                        if wantBias { db[d] += Lanes.sum(dy + base, count: inner) }
                    }
                }
            }
        }
        if propagateDown[0] {
            let dx = bottom[0].diff, s = scaleBlob.data
            Parallel.forItems(outer * dim, threads: threads, work: work) { planes in
                for plane in planes {
                    let k = s[plane % dim], dyp = dy + plane * inner, dxp = dx + plane * inner
                    var i = 0
                    while i < inner { dxp[i] = dyp[i] * k; i &+= 1 }
                }
            }
        }
    }
}
