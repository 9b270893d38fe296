import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Caffe's SPPParameter.
struct SPPParameter: LayerSettings {
    static let field = "spp_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "pyramid_height:int pool:enum(MAX,AVE,STOCHASTIC) engine:enum(DEFAULT,CAFFE,CUDNN)"
    var pyramidHeight: Int
    package var pool = PoolingParameter.Method.max

    init(_ p: ConfigNode) throws {
        guard let h = p.int("pyramid_height"), h >= 1 else { throw p.error("spp_param needs pyramid_height ≥ 1", field: p.has("pyramid_height") ? "pyramid_height" : nil) }
        pyramidHeight = h
        pool = p.enumeration("pool", default: pool)
    }
}

/// SPP (spatial pyramid pooling): pools the image into 1, 2×2, 4×4, … bins (pyramid_height
/// levels) and concatenates the flattened results, so any image size gives one output length.
/// Each level is a Pooling layer with Caffe's kernel, stride and pad for its bin count.
final class SPPLayer: Layer {
    private var levels: [(layer: PoolingLayer, top: Blob)] = []
    private var height = 0, width = 0
    private let settings: SPPParameter
    private var method: String { settings.pool.rawValue }
    private var pyramidHeight: Int { settings.pyramidHeight }
    /// Sum of the levels' input gradients (each level overwrites the bottom diff).
    private let gradientSum = Blob()

    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    /// Caffe's SPPLayer::GetPoolingParam: kernel ⌈size / bins⌉, stride = kernel, pad splitting the remainder.
    private func makeLevels(_ bottom: Blob) throws {
        levels = []
        for level in 0..<pyramidHeight {
            let bins = 1 << level
            let kh = Int(ceil(Double(height) / Double(bins))), kw = Int(ceil(Double(width) / Double(bins)))
            let ph = (kh * bins - height + 1) / 2, pw = (kw * bins - width + 1) / 2
            var parser = TextFormatParser(text: """
                name: "\(name)_level\(level)" type: "Pooling" bottom: "x" top: "y"
                pooling_param { pool: \(method) kernel_h: \(kh) kernel_w: \(kw) stride_h: \(kh) stride_w: \(kw) pad_h: \(ph) pad_w: \(pw) }
                """, file: param.location.file)
            let lp = try LayerParameter(ConfigNode.validated(try parser.parseTopLevel(), as: "LayerParameter", path: "layer \"\(name)\" › level \(level)"))
            let pool = try PoolingLayer(lp, phase: phase)
            let out = Blob()
            try pool.setUp(bottom: [bottom], top: [out], context: LayerContext(rng: RNG(seed: UInt64(level)), phase: phase))
            try pool.reshape(bottom: [bottom], top: [out])
            levels.append((pool, out))
        }
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let b = bottom[0]
        guard b.numAxes == 4 else { throw error("SPP needs a 4-axis bottom (N×C×H×W); found \(b.shape)") }
        if b.shape[2] != height || b.shape[3] != width || levels.isEmpty {
            (height, width) = (b.shape[2], b.shape[3])
            try makeLevels(b)
        } else {
            for l in levels { try l.layer.reshape(bottom: [b], top: [l.top]) }
        }
        try top[0].reshape([b.shape[0], levels.reduce(0) { $0 + $1.top.count(1) }])
        try gradientSum.reshape(b.shape)
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let n = bottom[0].shape[0], total = top[0].shape[1]
        var offset = 0
        for l in levels {
            try l.layer.forward(bottom: bottom, top: [l.top])
            let size = l.top.count(1)
            for i in 0..<n { (top[0].data + i * total + offset).update(from: l.top.data + i * size, count: size) }
            offset += size
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let n = bottom[0].shape[0], total = top[0].shape[1]
        let sum = gradientSum
        sum.zeroData()
        var offset = 0
        for l in levels {
            let size = l.top.count(1)
            for i in 0..<n { (l.top.diff + i * size).update(from: top[0].diff + i * total + offset, count: size) }
            l.layer.backward(top: [l.top], propagateDown: [true], bottom: bottom)
            axpy(sum.count, 1, bottom[0].diff, sum.data)
            offset += size
        }
        bottom[0].diff.update(from: sum.data, count: sum.count)
    }
}
