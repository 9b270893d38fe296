import CortadoBase
import CortadoIO
import CortadoConfig

/// Deconvolution (transposed convolution): the backward pass of a convolution used forward.
/// Output size stride·(in − 1) + dilation·(k − 1) + 1 − 2·pad; weights [channels, num_output/group, kh, kw].
final class DeconvolutionLayer: Layer {
    override var graphColour: String? { "#ff9e80" }
    private let s: ConvolutionParameter
    private var axis = 1
    private var channels = 0, num = 0
    /// The geometry of the convolution this one transposes: its input is our output.
    private var geometry = ConvGeometry.empty
    private let col = Blob()

    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }

    override var graphDetails: [String] { s.graphDetails }

    /// ConvTranspose with Caffe's kernel, pads, strides, dilations and groups (2-D, axis 1).
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        try s.writeONNX("ConvTranspose", &graph, inputs: inputs, name: name, blobs: blobs)
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        s = try param.settings()
        try super.init(param, phase: phase)
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        axis = try s.channelAxis(of: bottom[0], for: self)
        (channels, blobs) = try s.makeBlobs(bottom: bottom[0], axis: axis, context: context, transposed: true, for: self)
    }

    /// Each input spreads over (out/g)·kh·kw outputs.
    override func multiplyAdds(bottom: [Blob], top: [Blob]) -> Int {
        (bottom.first?.count ?? 0) * (blobs.first?.count(1) ?? 0)
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let b = bottom[0]
        num = try s.items(in: b, axis: axis, channels: channels, for: self)
        let inH = b.shape[axis + 1], inW = b.shape[axis + 2]
        let outH = s.stride.h * (inH - 1) + s.dilation.h * (s.kernel.h - 1) + 1 - 2 * s.pad.h
        let outW = s.stride.w * (inW - 1) + s.dilation.w * (s.kernel.w - 1) + 1 - 2 * s.pad.w
        guard outH > 0, outW > 0 else { throw error("the output would be empty (\(outH)×\(outW)); reduce pad") }
        geometry = s.geometry(channels: s.numOutput, height: outH, width: outW)
        let shape = Array(b.shape[0..<axis]) + [s.numOutput, outH, outW]
        try top[0].reshape(shape)
        try col.reshape([s.numOutput * s.kernel.h * s.kernel.w, inH * inW])
    }

    private var inSpatial: Int { geometry.outHeight * geometry.outWidth }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let g = s.group, cin = channels / g, kOut = s.numOutput / g * s.kernel.h * s.kernel.w
        let spatial = inSpatial, outSize = s.numOutput * geometry.height * geometry.width, plane = geometry.height * geometry.width
        for n in 0..<num {
            let x = bottom[0].data + n * channels * spatial, y = top[0].data + n * outSize
            for gi in 0..<g {
                gemm(true, false, kOut, spatial, cin, 1, blobs[0].data + gi * cin * kOut, x + gi * cin * spatial, 0, col.data + gi * kOut * spatial)
            }
            col2im(col.data, geometry, y, ldc: spatial)
            if s.biasTerm {
                for c in 0..<s.numOutput { let b = blobs[1].data[c]; for i in 0..<plane { y[c * plane + i] += b } }
            }
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        let g = s.group, cin = channels / g, kOut = s.numOutput / g * s.kernel.h * s.kernel.w
        let spatial = inSpatial, outSize = s.numOutput * geometry.height * geometry.width, plane = geometry.height * geometry.width
        for n in 0..<num {
            let dy = top[0].diff + n * outSize, x = bottom[0].data + n * channels * spatial
            if s.biasTerm && needsParamGradient(1) {
                for c in 0..<s.numOutput { var acc: Float = 0; for i in 0..<plane { acc += dy[c * plane + i] }; blobs[1].diff[c] += acc }
            }
            im2col(dy, geometry, col.data, ldc: spatial)
            for gi in 0..<g {
                if needsParamGradient(0) {
                    gemm(false, true, cin, kOut, spatial, 1, x + gi * cin * spatial, col.data + gi * kOut * spatial, 1, blobs[0].diff + gi * cin * kOut)
                }
                if propagateDown[0] {
                    gemm(false, false, cin, spatial, kOut, 1, blobs[0].data + gi * cin * kOut, col.data + gi * kOut * spatial, 0,
                         bottom[0].diff + n * channels * spatial + gi * cin * spatial)
                }
            }
        }
    }
}
