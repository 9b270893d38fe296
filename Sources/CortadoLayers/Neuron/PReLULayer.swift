import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's PReLUParameter: the slopes start at 0.25 unless a filler says otherwise.
struct PReLUParameter: LayerSettings {
    static let field = "prelu_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "filler:@FillerParameter channel_shared:bool"
    var filler = FillerParameter(type: .constant, value: 0.25)
    var channelShared = false

    init(_ p: ConfigNode) throws {
        if let f = p.child("filler") { filler = try FillerParameter(f) }
        channelShared = p.bool("channel_shared") ?? channelShared
    }
}

/// PReLU: y = max(0, x) + a_c · min(0, x), with a learnable slope per channel (or one shared
/// with channel_shared), filled by default with 0.25 as in Caffe.
final class PReLULayer: NeuronLayer {
    private let settings: PReLUParameter
    private var shared: Bool { settings.channelShared }
    private var channels = 1, inner = 1
    /// A copy of the input, kept when working in place (the gradient needs x).
    private let input = Blob()

    /// PRelu with the slopes shaped to broadcast over the channel axis.
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        let slope = blobs[0], rank = graph.bottomShapes[0].count
        let dims = slope.count == 1 ? [1] : [slope.count] + Array(repeating: 1, count: max(0, rank - 2))
        let slopes = graph.constant("\(name)_slope", floats: slope.dataArray, dims: dims)
        graph.single("PRelu", name, [inputs[0], slopes])
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        guard bottom[0].numAxes >= 2 else { throw error("PReLU needs a bottom with a channel axis; found shape \(bottom[0].shape)") }
        let slopes = try Blob(checked: shared ? [] : [bottom[0].shape[1]])
        context.fill(slopes, with: settings.filler)
        blobs = [slopes]
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        try super.reshape(bottom: bottom, top: top)
        channels = bottom[0].shape[1]
        inner = bottom[0].count(2)
        if !shared && blobs[0].count != channels {
            throw error("PReLU was set up for \(blobs[0].count) channels but the bottom has \(channels)")
        }
        if top[0] === bottom[0] { try input.reshape(bottom[0].shape) }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data, a = blobs[0].data
        if top[0] === bottom[0] { input.copyData(from: bottom[0]) }
        for i in 0..<bottom[0].count {
            let c = shared ? 0 : (i / inner) % channels
            y[i] = max(x[i], 0) + a[c] * min(x[i], 0)
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        let x = top[0] === bottom[0] ? input.data : bottom[0].data
        let dy = top[0].diff, a = blobs[0].data, da = blobs[0].diff
        if needsParamGradient(0) {
            for i in 0..<bottom[0].count where x[i] <= 0 {
                da[shared ? 0 : (i / inner) % channels] += dy[i] * x[i]
            }
        }
        guard propagateDown[0] else { return }
        let dx = bottom[0].diff
        for i in 0..<bottom[0].count {
            let c = shared ? 0 : (i / inner) % channels
            dx[i] = x[i] > 0 ? dy[i] : a[c] * dy[i]
        }
    }
}
