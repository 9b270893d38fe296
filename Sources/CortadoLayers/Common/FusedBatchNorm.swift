import CortadoBase

/// BatchNorm, then Scale in place on its top, then (optionally) ReLU in place: the block after
/// every convolution of Caffe's ResNets and MobileNets, run as one pass over memory each way
/// instead of three. Activations that size are memory-bound: the three layers stream the
/// blob eleven times forward and thirteen backward, this five and seven.
///
/// It is the same arithmetic in the same order as the three layers (each channel's sums in
/// `Lanes` order, image by image), so it gives the same bits (FusedBatchNormTests). The
/// layers keep their blobs, names and parameters; the net runs them one by one wherever it
/// runs only part of the block (a Python `forward(start=…)`, debug_info).
package struct FusedBatchNorm {
    private let bn: BatchNormLayer
    private let scale: ScaleLayer
    private let relu: ReLULayer?
    /// How many consecutive layers of the net it stands for (2 or 3).
    package var count: Int { relu == nil ? 2 : 3 }

    /// nil unless `layers` begin with BatchNorm → Scale (one bottom, its own learned scale over
    /// the channel axis, in place on the BatchNorm's top), maybe → ReLU (in place on it too).
    /// `bottoms` and `tops` are the layers' blobs as the net wired them.
    package init?(_ layers: [Layer], bottoms: [[Blob]], tops: [[Blob]]) {
        guard layers.count >= 2, let bn = layers[0] as? BatchNormLayer, let scale = layers[1] as? ScaleLayer,
              bottoms[0].count == 1, tops[0].count == 1, !scale.fromBottom,
              scale.settings.axis == 1, scale.settings.numAxes == 1 else { return nil }
        let t = tops[0][0]
        func inPlace(_ i: Int) -> Bool { bottoms[i].count == 1 && tops[i].count == 1 && bottoms[i][0] === t && tops[i][0] === t }
        guard inPlace(1) else { return nil }
        (self.bn, self.scale) = (bn, scale)
        relu = layers.count > 2 && inPlace(2) ? layers[2] as? ReLULayer : nil
    }

    /// z = (x − μ)/σ (kept for backward), y = activation(z·γ + β), channel by channel.
    package func forward(bottom x: Blob, top t: Blob) {
        let xp = UnsafePointer(x.data), y = t.data, z = bn.normalized.data, spatial = bn.spatial
        let k = scale.blobs[0].data, b: UnsafeMutablePointer<Float>? = scale.settings.biasTerm ? scale.blobs[1].data : nil
        let slope = relu?.slope
        bn.forEachChannel(xp) { c, mean, std in
            let kc = k[c], bc = b?[c] ?? 0
            for n in 0..<bn.num {
                let o = bn.plane(n, c), xr = xp + o, zr = z + o, yr = y + o
                var i = 0
                switch slope {
                case nil: while i < spatial { let v = (xr[i] - mean) / std; zr[i] = v; yr[i] = v * kc + bc; i &+= 1 }
                case 0: while i < spatial { let v = (xr[i] - mean) / std; zr[i] = v; yr[i] = max(v * kc + bc, 0); i &+= 1 }
                case let s?:
                    while i < spatial {
                        let v = (xr[i] - mean) / std, u = v * kc + bc
                        zr[i] = v; yr[i] = max(u, 0) + s * min(u, 0); i &+= 1
                    }
                }
            }
        }
        scale.inputHeldBy = bn.normalized
    }

    /// Whether the last forward pass through these layers was this block's: only then is the
    /// input Scale saw the BatchNorm's output, as `backward` takes it (a forward pass that
    /// began at the Scale scaled whatever the blob held).
    package var ranForward: Bool { scale.inputHeldBy === bn.normalized }

    /// The three backward passes per channel and image plane, while the plane is in cache:
    /// ReLU's mask, Scale's parameter sums and its bottom gradient (written into the top's
    /// diff, where Scale writes it), then BatchNorm's sums and its bottom gradient.
    package func backward(bottom x: Blob, top t: Blob) {
        let dy = t.diff, y = UnsafePointer(t.data), z = UnsafePointer(bn.normalized.data), spatial = bn.spatial
        let k = scale.blobs[0].data
        let wantScale = scale.needsParamGradient(0), wantBias = scale.settings.biasTerm && scale.needsParamGradient(1)
        let ds = scale.blobs[0].diff, db = scale.settings.biasTerm ? scale.blobs[1].diff : ds
        let slope = relu?.slope, global = bn.useGlobal
        Parallel.forItems(bn.channels, threads: bn.threads, work: t.count) { range in
            for c in range {
                var sumDy: Float = 0, sumDyZ: Float = 0
                let kc = k[c]
                for n in 0..<bn.num {
                    let o = bn.plane(n, c), g = dy + o, yr = y + o, zr = z + o
                    if let s = slope { var i = 0; while i < spatial { g[i] = g[i] * (yr[i] > 0 ? 1 : s); i &+= 1 } }
                    if wantScale { ds[c] += Lanes.dot(g, zr, count: spatial) }
                    if wantBias { db[c] += Lanes.sum(g, count: spatial) }
                    var i = 0
                    while i < spatial { g[i] = g[i] * kc; i &+= 1 }
                    if !global {
                        sumDy += Lanes.sum(g, count: spatial)
                        sumDyZ += Lanes.dot(g, zr, count: spatial)
                    }
                }
                bn.bottomGradient(c, dy, sumDy: sumDy, sumDyZ: sumDyZ, into: x.diff)
            }
        }
    }
}
