import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's TileParameter.
struct TileParameter: LayerSettings {
    static let field = "tile_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "axis:int tiles:int"
    package var axis = 1
    var tiles: Int

    init(_ p: ConfigNode) throws {
        axis = p.int("axis") ?? axis
        guard let t = p.int("tiles"), t >= 1 else { throw p.error("tile_param needs tiles ≥ 1", field: p.has("tiles") ? "tiles" : nil) }
        tiles = t
    }
}

/// Tile: repeats the bottom `tiles` times along `axis`; gradients of the copies are summed.
final class TileLayer: Layer {
    private var axis = 1, tiles = 1, outer = 1, inner = 1

    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }
    private let settings: TileParameter

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let t = settings.tiles
        let a = try canonicalAxis(settings.axis, of: bottom[0])
        (axis, tiles) = (a, t)
        outer = bottom[0].count(0, a)
        inner = bottom[0].count(a)
        var shape = bottom[0].shape
        shape[a] *= t
        try top[0].reshape(shape)
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        for o in 0..<outer {
            for t in 0..<tiles { (top[0].data + (o * tiles + t) * inner).update(from: bottom[0].data + o * inner, count: inner) }
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        for o in 0..<outer {
            let dx = bottom[0].diff + o * inner
            dx.update(from: top[0].diff + o * tiles * inner, count: inner)
            for t in 1..<max(tiles, 1) { axpy(inner, 1, top[0].diff + (o * tiles + t) * inner, dx) }
        }
    }
}
