import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation
/// Caffe's ConvolutionParameter (Deconvolution reads it too). kernel/pad/stride come as one
/// or two repeated values or as the _h/_w pair; Cortado works over two spatial axes.
package struct ConvolutionParameter: LayerSettings {
    package static let field = "convolution_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = """
        num_output:int bias_term:bool *pad:int *kernel_size:int *stride:int *dilation:int pad_h:int \
        pad_w:int kernel_h:int kernel_w:int stride_h:int stride_w:int group:int \
        weight_filler:@FillerParameter bias_filler:@FillerParameter engine:enum(DEFAULT,CAFFE,CUDNN) \
        axis:int force_nd_im2col:bool
        """
    var numOutput: Int
    package var biasTerm = true
    package var group = 1
    /// The channel axis; the two axes after it are spatial.
    package var axis = 1
    package var kernel: (h: Int, w: Int)
    package var pad = (h: 0, w: 0)
    package var stride = (h: 1, w: 1)
    package var dilation = (h: 1, w: 1)
    var weightFiller = FillerParameter()
    var biasFiller = FillerParameter()
    /// Where the message is, for errors about the axis and groups found at set-up.
    let node: ConfigNode

    package init(_ p: ConfigNode) throws {
        node = p
        guard let n = p.int("num_output"), n > 0 else {
            throw p.error("convolution_param needs num_output > 0", field: p.has("num_output") ? "num_output" : nil)
        }
        numOutput = n
        biasTerm = p.bool("bias_term") ?? biasTerm
        group = p.int("group") ?? group
        guard group >= 1 else { throw p.error("group must be at least 1, found \(group)", field: "group") }
        guard n % group == 0 else { throw p.error("num_output \(n) must be divisible by group \(group)", field: "group") }
        axis = p.int("axis") ?? axis
        kernel = try Self.pair(p, "kernel_size", "kernel_h", "kernel_w", default: nil)
        pad = try Self.pair(p, "pad", "pad_h", "pad_w", default: 0)
        stride = try Self.pair(p, "stride", "stride_h", "stride_w", default: 1)
        let d = p.ints("dilation")
        guard d.count <= 2 else { throw p.error("dilation takes 1 or 2 values, found \(d.count)", field: "dilation") }
        dilation = d.isEmpty ? (1, 1) : (d[0], d[d.count - 1])
        guard kernel.h > 0, kernel.w > 0 else { throw p.error("kernel size must be positive", field: "kernel_size") }
        guard stride.h > 0, stride.w > 0 else { throw p.error("stride must be positive", field: "stride") }
        guard dilation.h > 0, dilation.w > 0 else { throw p.error("dilation must be positive", field: "dilation") }
        guard pad.h >= 0, pad.w >= 0 else { throw p.error("pad must not be negative", field: "pad") }
        weightFiller = try FillerParameter(p.child("weight_filler"))
        biasFiller = try FillerParameter(p.child("bias_filler"))
    }

    /// kernel/pad/stride as one or two repeated values or the _h/_w pair (Pooling's too).
    static func pair(_ p: ConfigNode, _ repeated: String, _ hName: String, _ wName: String, default value: Int?) throws -> (h: Int, w: Int) {
        let list = p.ints(repeated)
        if p.has(hName) || p.has(wName) {
            guard list.isEmpty else {
                throw p.error("give either \(repeated) or \(hName)/\(wName), not both", field: hName)
            }
            guard let h = p.int(hName) ?? value, let w = p.int(wName) ?? value else {
                throw p.error("\(hName) and \(wName) must be given together", field: p.has(hName) ? hName : wName)
            }
            return (h, w)
        }
        switch list.count {
        case 0:
            guard let value else { throw p.error("\(repeated) (or \(hName) and \(wName)) is required") }
            return (value, value)
        case 1: return (list[0], list[0])
        case 2: return (list[0], list[1])
        default: throw p.error("\(repeated) takes 1 or 2 values, found \(list.count)", field: repeated)
        }
    }

    /// The channel axis of `bottom`, checked to leave exactly two spatial axes after it.
    func channelAxis(of bottom: Blob, for layer: Layer) throws -> Int {
        let a = try layer.canonicalAxis(axis, of: bottom, node: node)
        let spatial = bottom.numAxes - a - 1
        guard spatial == 2 else {
            throw layer.error("Cortado's Convolution works over 2 spatial axes; the bottom \(bottom.shape) has \(spatial) after axis \(a)")
        }
        return a
    }

    /// The number of items before `axis` in `bottom`, checked against the set-up channel count.
    func items(in bottom: Blob, axis: Int, channels: Int, for layer: Layer) throws -> Int {
        guard bottom.numAxes == axis + 3, bottom.shape[axis] == channels else {
            throw layer.error("bottom shape \(bottom.shape) does not match the \(channels) input channels this layer was set up with")
        }
        return bottom.count(0, axis)
    }

    /// Input channels and filled parameter blobs. Deconvolution's weights are
    /// [channels, num_output/group, kh, kw] instead of [num_output, channels/group, kh, kw].
    func makeBlobs(bottom: Blob, axis: Int, context: LayerContext, transposed: Bool, for layer: Layer) throws -> (channels: Int, blobs: [Blob]) {
        let channels = bottom.shape[axis]
        guard channels % group == 0 else {
            throw node.error("the input has \(channels) channels, which group \(group) does not divide", field: "group")
        }
        let shape = transposed ? [channels, numOutput / group, kernel.h, kernel.w] : [numOutput, channels / group, kernel.h, kernel.w]
        let weight = try Blob(checked: shape)
        context.fill(weight, with: weightFiller)
        var blobs = [weight]
        if biasTerm {
            let bias = try Blob(checked: [numOutput])
            context.fill(bias, with: biasFiller)
            blobs.append(bias)
        }
        return (channels, blobs)
    }

    /// The window geometry over a channels×height×width image.
    func geometry(channels: Int, height: Int, width: Int) -> ConvGeometry {
        ConvGeometry(channels: channels, height: height, width: width, kernelH: kernel.h, kernelW: kernel.w, padH: pad.h, padW: pad.w,
                     strideH: stride.h, strideW: stride.w, dilationH: dilation.h, dilationW: dilation.w)
    }

    /// `20 out, k5 s1 p0, group 2`: for graph nodes.
    var graphDetails: [String] {
        var parts = ["\(numOutput) out", "k\(kernel.h) s\(stride.h) p\(pad.h)"]
        if group != 1 { parts.append("group \(group)") }
        if dilation.h != 1 { parts.append("dilation \(dilation.h)") }
        return [parts.joined(separator: ", ")]
    }
}

extension ConvolutionParameter {
    /// Conv or ConvTranspose (`op`) with these settings' kernel, pads, strides, dilations and
    /// groups, and the layer's weights and bias (2-D, axis 1).
    func writeONNX(_ op: String, _ graph: inout some ONNXGraphWriting, inputs: [String], name: String, blobs: [Blob]) throws {
        guard graph.bottomShapes[0].count == 4, axis == 1 else { throw ExportError("only 2-D convolutions (N×C×H×W, axis 1) are exported") }
        var operands = [inputs[0], graph.constant("\(name)_W", floats: blobs[0].dataArray, dims: blobs[0].shape)]
        if biasTerm { operands.append(graph.constant("\(name)_b", floats: blobs[1].dataArray, dims: [blobs[1].count])) }
        graph.single(op, name, operands, [
            ("kernel_shape", .ints([kernel.h, kernel.w])), ("pads", .ints([pad.h, pad.w, pad.h, pad.w])),
            ("strides", .ints([stride.h, stride.w])), ("dilations", .ints([dilation.h, dilation.w])), ("group", .int(group)),
        ])
    }
}

/// Convolution over the two spatial axes after `axis`: through oneDNN (`DNNLConvolution`, one
/// per thread, each on its own run of images) when the batch has an image for every thread,
/// otherwise as im2col + sgemm, described here. The batch is split
/// across `threads` (each thread takes a contiguous run of images, with its own scratch and
/// single-threaded sgemm), and each thread unrolls a few images at a time, so the column
/// matrix stays in the core's cache instead of streaming through memory. Weight and bias
/// gradients of the second and later threads go to their own buffers and are added in thread
/// order, so a given thread count always gives the same sums.
/// Weights [num_output, channels/group, kh, kw], bias [num_output].
final class ConvolutionLayer: Layer {
    override var graphColour: String? { "#ff9e80" }
    private let s: ConvolutionParameter
    /// The channel axis, from the settings, made non-negative against the bottom.
    private var axis = 1
    private var geometry = ConvGeometry.empty
    private var num = 0, channels = 0
    /// Images unrolled together by one thread.
    private var chunk = 1
    private var workspaces: [ConvWorkspace] = []
    /// Floats of columns one thread unrolls at a time (128 KB): well inside L2, and LeNet's conv2
    /// unrolls one image at a time, writing its product straight into the top.
    static let columnBudget = 32 << 10

    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }
    override var graphDetails: [String] { s.graphDetails }

    /// Conv with Caffe's kernel, pads, strides, dilations and groups (2-D, axis 1).
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        try s.writeONNX("Conv", &graph, inputs: inputs, name: name, blobs: blobs)
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        s = try param.settings()
        try super.init(param, phase: phase)
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        axis = try s.channelAxis(of: bottom[0], for: self)
        (channels, blobs) = try s.makeBlobs(bottom: bottom[0], axis: axis, context: context, transposed: false, for: self)
    }

    /// Each output: (C/g)·kh·kw products.
    override func multiplyAdds(bottom: [Blob], top: [Blob]) -> Int {
        (top.first?.count ?? 0) * (blobs.first?.count(1) ?? 0)
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let b = bottom[0]
        num = try s.items(in: b, axis: axis, channels: channels, for: self)
        geometry = s.geometry(channels: channels, height: b.shape[axis + 1], width: b.shape[axis + 2])
        guard geometry.outHeight > 0, geometry.outWidth > 0 else {
            throw error("the kernel (\(s.kernel.h)×\(s.kernel.w), dilation \(s.dilation.h)) does not fit the \(geometry.height)×\(geometry.width) input with pad \(s.pad.h)")
        }
        let topShape = Array(b.shape[0..<axis]) + [s.numOutput, geometry.outHeight, geometry.outWidth]
        try top[0].reshape(topShape)
        guard depthwise == nil else { return }
        try prepareOneDNN()
        let kDim = channels * s.kernel.h * s.kernel.w
        chunk = isPointwise ? 1 : max(1, min(num, Self.columnBudget / max(kDim * spatial, 1)))
        while workspaces.count < parts { workspaces.append(ConvWorkspace()) }
        let unrolls = !backwardOnOneDNN   // oneDNN needs only the gradient buffers
        for w in workspaces.prefix(parts) {
            try w.reshape(columns: unrolls && !isPointwise ? kDim * chunk * spatial : 0, products: unrolls && chunk > 1 ? s.numOutput * chunk * spatial : 0,
                          padded: unrolls && geometry.hasPadding ? geometry.paddedImageCount : 0,
                          weights: blobs[0].count, outputs: s.numOutput, ones: chunk * spatial)
        }
    }

    private var spatial: Int { geometry.outHeight * geometry.outWidth }
    private var inputSize: Int { channels * geometry.height * geometry.width }
    private var outputSize: Int { s.numOutput * spatial }
    /// Threads the batch is split across; the rest go to each sgemm (one image, many threads).
    private var parts: Int { max(1, min(threads, num)) }
    private var gemmThreads: Int { parts == 1 ? threads : 1 }

    /// A 1×1 convolution with stride 1 and no padding is a plain matrix product per image:
    /// the input already is its own column matrix, so im2col is skipped.
    private var isPointwise: Bool {
        s.kernel == (1, 1) && s.stride == (1, 1) && s.pad == (0, 0) && s.dilation == (1, 1)
    }

    /// Depthwise (group = channels, equal strides): a direct kernel instead of one tiny GEMM per channel.
    private var depthwise: DepthwiseConvolution? {
        guard s.group == channels, s.group > 1, !isPointwise else { return nil }
        return DepthwiseConvolution(geometry: geometry, multiplier: s.numOutput / s.group, threads: threads)
    }

    /// The column matrix of images start..<start+n (row stride n·spatial): the input itself
    /// for a pointwise convolution, else unrolled into the workspace.
    private func columns(_ x: UnsafePointer<Float>, start: Int, n: Int, _ w: ConvWorkspace) -> UnsafePointer<Float> {
        if isPointwise { return x + start * inputSize }
        let ldc = n * spatial
        for i in 0..<n {
            let image = x + (start + i) * inputSize
            if geometry.hasPadding {
                pad(image, geometry, into: w.padded.data)
                im2col(w.padded.data, geometry.unpadded, w.col.data + i * spatial, ldc: ldc)
            } else {
                im2col(image, geometry, w.col.data + i * spatial, ldc: ldc)
            }
        }
        return UnsafePointer(w.col.data)
    }

    // MARK: oneDNN

    /// Whether this layer may run through oneDNN (`DNNLConvolution`): on by default, off with
    /// CORTADO_ONEDNN=0; tests turn it off per layer to compare with the im2col path.
    var allowsOneDNN = ConvolutionLayer.oneDNNByDefault
    static let oneDNNByDefault = ProcessInfo.processInfo.environment["CORTADO_ONEDNN"] != "0"
    /// How much channel padding (`DNNLConvolution.channelPadding`) a shape may have and still
    /// go to oneDNN. Where oneDNN's blocks of 16 fit the channels (1.0: CIFAR-10, CaffeNet,
    /// most of GoogLeNet) it ran 1.4–4× the im2col path; padded by a third or more (24 → 32
    /// channels: 1.33; LeNet's conv1 1.6 and conv2 2.05) it was slower than im2col with
    /// oneDNN's sgemm (bench/RESULTS.md). Tests raise it to compare both paths on any shape.
    var oneDNNChannelPaddingLimit = 1.25 { didSet { oneDNNKey = nil } }
    /// Whether the last reshape put this layer on oneDNN.
    var runsOnOneDNN: Bool { !oneDNN.isEmpty }
    /// Whether its backward pass runs there too: not where oneDNN's weight gradient reads a
    /// plain input (`DNNLConvolution.weightGradientIsBlocked`), which is not precise enough.
    var backwardOnOneDNN: Bool { oneDNN.first?.weightGradientIsBlocked == true }
    /// One per thread's run of images, when oneDNN serves this shape.
    private var oneDNN: [DNNLConvolution] = []
    /// What `oneDNN` was built for; a reshape to the same batch and geometry keeps it.
    private var oneDNNKey: OneDNNKey?
    private struct OneDNNKey: Equatable { var num: Int, parts: Int, geometry: ConvGeometry, precision: Precision }
    /// The arithmetic of its oneDNN path (`Precision.current` when it was built); tests set
    /// it to compare bf16 with fp32.
    package var precision = Precision.current { didSet { oneDNNKey = nil } }

    /// Builds (or keeps) one oneDNN convolution per thread for this batch, and reserves their
    /// bytes in the net's `callScratch` once, when built. oneDNN runs each single-threaded on
    /// its thread's images, so a batch smaller than the thread count (one image to classify)
    /// stays on the im2col path, whose products split across threads.
    private func prepareOneDNN() throws {
        guard allowsOneDNN, parts == threads || threads == 1 else {
            oneDNN = []; oneDNNKey = nil; return
        }
        let key = OneDNNKey(num: num, parts: parts, geometry: geometry, precision: precision)
        guard key != oneDNNKey else { return }
        oneDNN = []
        let shapes = (0..<parts).map { p in
            DNNLConvolution.Shape(images: Parallel.range(p, of: parts, count: num).count, geometry: geometry,
                                  outputs: s.numOutput, groups: s.group, bias: s.biasTerm, precision: precision)
        }
        var built: [DNNLConvolution] = []
        for shape in shapes {
            guard let c = DNNLConvolution(shape), c.channelPadding <= oneDNNChannelPaddingLimit else { oneDNNKey = key; return }
            built.append(c)
        }
        try callScratch.reserve(built.map(\.scratchBytes))
        oneDNN = built
        oneDNNKey = key
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        if let d = depthwise { return d.forward(bottom[0].data, blobs[0].data, s.biasTerm ? UnsafePointer(blobs[1].data) : nil, top[0].data, num: num) }
        let x = UnsafePointer(bottom[0].data), y = top[0].data
        if !oneDNN.isEmpty {
            let w = UnsafePointer(blobs[0].data), b = s.biasTerm ? UnsafePointer(blobs[1].data) : nil
            return Parallel.run(parts) { p in
                let start = Parallel.range(p, of: parts, count: num).lowerBound
                oneDNN[p].forward(x + start * inputSize, w, b, y + start * outputSize, scratch: callScratch.block(p))
            }
        }
        Parallel.run(parts) { p in
            let w = workspaces[p]
            let images = Parallel.range(p, of: parts, count: num)
            for start in stride(from: images.lowerBound, to: images.upperBound, by: chunk) {
                let n = min(chunk, images.upperBound - start)
                let col = columns(x, start: start, n: n, w)
                // One image: the product [numOutput, spatial] already is the top's layout.
                let out = n == 1 ? y + start * outputSize : w.tmp.data
                multiply(col, n: n, into: out)
                if n == 1 { addBias(out) } else { scatter(w.tmp.data, to: y, start: start, n: n) }
            }
        }
    }

    /// out [numOutput, n·spatial] = W · col, group by group.
    private func multiply(_ col: UnsafePointer<Float>, n: Int, into out: UnsafeMutablePointer<Float>) {
        let g = s.group, outPerGroup = s.numOutput / g, kPerGroup = channels / g * s.kernel.h * s.kernel.w
        let cols = n * spatial
        for gi in 0..<g {
            gemm(false, false, outPerGroup, cols, kPerGroup, 1, blobs[0].data + gi * outPerGroup * kPerGroup,
                 col + gi * kPerGroup * cols, 0, out + gi * outPerGroup * cols, threads: gemmThreads)
        }
    }

    /// Adds the bias to one image's output [numOutput, spatial].
    private func addBias(_ y: UnsafeMutablePointer<Float>) {
        guard s.biasTerm else { return }
        let sp = spatial, bias = blobs[1].data
        for c in 0..<s.numOutput {
            let row = y + c * sp, b = bias[c]
            for j in 0..<sp { row[j] += b }
        }
    }

    /// tmp [numOutput, n·spatial] → top [n, numOutput, spatial], adding the bias on the way.
    private func scatter(_ tmp: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, start: Int, n: Int) {
        let cols = n * spatial, sp = spatial
        for i in 0..<n {
            for c in 0..<s.numOutput {
                let src = tmp + c * cols + i * sp
                let dst = y + ((start + i) * s.numOutput + c) * sp
                if s.biasTerm {
                    let b = blobs[1].data[c]
                    for j in 0..<sp { dst[j] = src[j] + b }
                } else {
                    dst.update(from: src, count: sp)
                }
            }
        }
    }

    /// top diff [n, numOutput, spatial] → tmp [numOutput, n·spatial].
    private func gather(_ dy: UnsafePointer<Float>, into tmp: UnsafeMutablePointer<Float>, start: Int, n: Int) {
        let cols = n * spatial, sp = spatial
        for i in 0..<n {
            for c in 0..<s.numOutput {
                (tmp + c * cols + i * sp).update(from: dy + ((start + i) * s.numOutput + c) * sp, count: sp)
            }
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        if let d = depthwise {
            return d.backward(bottom[0].data, blobs[0].data, top[0].diff,
                              dw: needsParamGradient(0) ? blobs[0].diff : nil,
                              db: s.biasTerm && needsParamGradient(1) ? blobs[1].diff : nil,
                              dx: propagateDown[0] ? bottom[0].diff : nil, num: num)
        }
        let x = UnsafePointer(bottom[0].data), dy = UnsafePointer(top[0].diff)
        let weightGrad = needsParamGradient(0), biasGrad = s.biasTerm && needsParamGradient(1)
        let propagate = propagateDown[0]
        if backwardOnOneDNN { return backwardOneDNN(x, dy, weightGrad: weightGrad, biasGrad: biasGrad, dx: propagate ? bottom[0].diff : nil) }
        Parallel.run(parts) { p in
            let w = workspaces[p]
            // The first thread adds into the parameter diffs; the others into their own buffers.
            let dW = p == 0 ? blobs[0].diff : w.dW.data
            let db = p == 0 ? (s.biasTerm ? blobs[1].diff : w.db.data) : w.db.data
            if p > 0 {
                w.dW.data.update(repeating: 0, count: w.dW.count)
                w.db.data.update(repeating: 0, count: w.db.count)
            }
            let images = Parallel.range(p, of: parts, count: num)
            for start in stride(from: images.lowerBound, to: images.upperBound, by: chunk) {
                let n = min(chunk, images.upperBound - start), cols = n * spatial
                let g: UnsafePointer<Float>
                if n == 1 { g = dy + start * outputSize } else { gather(dy, into: w.tmp.data, start: start, n: n); g = UnsafePointer(w.tmp.data) }
                if biasGrad { gemv(false, s.numOutput, cols, 1, g, w.ones.data, 1, db) }
                if weightGrad { weightGradient(g, columns(x, start: start, n: n, w), cols: cols, into: dW) }
                if propagate { bottomGradient(g, start: start, n: n, w, into: bottom[0].diff) }
            }
        }
        for w in workspaces[1..<parts] {
            if weightGrad { axpy(w.dW.count, 1, w.dW.data, blobs[0].diff) }
            if biasGrad { axpy(w.db.count, 1, w.db.data, blobs[1].diff) }
        }
    }

    /// oneDNN writes (not adds) each thread's gradients into its own buffers; they are added to
    /// the parameter diffs in thread order, so a given thread count gives the same sums.
    private func backwardOneDNN(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, weightGrad: Bool, biasGrad: Bool,
                                dx: UnsafeMutablePointer<Float>?) {
        let weights = UnsafePointer(blobs[0].data)
        Parallel.run(parts) { p in
            let w = workspaces[p], start = Parallel.range(p, of: parts, count: num).lowerBound
            if weightGrad || biasGrad {
                oneDNN[p].weightGradient(x + start * inputSize, dy + start * outputSize, w.dW.data, s.biasTerm ? w.db.data : nil,
                                         scratch: callScratch.block(p))
            }
            if let dx { oneDNN[p].dataGradient(weights, dy + start * outputSize, dx + start * inputSize, scratch: callScratch.block(p)) }
        }
        for w in workspaces[0..<parts] {
            if weightGrad { axpy(w.dW.count, 1, w.dW.data, blobs[0].diff) }
            if biasGrad { axpy(w.db.count, 1, w.db.data, blobs[1].diff) }
        }
    }

    /// dW += dy · colᵀ, group by group.
    private func weightGradient(_ dy: UnsafePointer<Float>, _ col: UnsafePointer<Float>, cols: Int, into dW: UnsafeMutablePointer<Float>) {
        let g = s.group, outPerGroup = s.numOutput / g, kPerGroup = channels / g * s.kernel.h * s.kernel.w
        for gi in 0..<g {
            gemm(false, true, outPerGroup, kPerGroup, cols, 1, dy + gi * outPerGroup * cols, col + gi * kPerGroup * cols, 1,
                 dW + gi * outPerGroup * kPerGroup, threads: gemmThreads)
        }
    }

    /// Column gradients Wᵀ · dy, folded back into the images' gradients (col2im). A pointwise
    /// convolution's column gradient is the image gradient itself.
    private func bottomGradient(_ dy: UnsafePointer<Float>, start: Int, n: Int, _ w: ConvWorkspace, into dx: UnsafeMutablePointer<Float>) {
        let g = s.group, outPerGroup = s.numOutput / g, kPerGroup = channels / g * s.kernel.h * s.kernel.w
        let cols = n * spatial
        let dcol = isPointwise ? dx + start * inputSize : w.col.data
        for gi in 0..<g {
            gemm(true, false, kPerGroup, cols, outPerGroup, 1, blobs[0].data + gi * outPerGroup * kPerGroup,
                 dy + gi * outPerGroup * cols, 0, dcol + gi * kPerGroup * cols, threads: gemmThreads)
        }
        guard !isPointwise else { return }
        for i in 0..<n {
            let image = dx + (start + i) * inputSize
            if geometry.hasPadding {
                col2im(w.col.data + i * spatial, geometry.unpadded, w.padded.data, ldc: cols)
                crop(w.padded.data, geometry, into: image)
            } else {
                col2im(w.col.data + i * spatial, geometry, image, ldc: cols)
            }
        }
    }
}

/// One thread's scratch for a convolution: unrolled columns and products for one chunk of
/// images, one image with its padding written out, its share of the weight and bias
/// gradients, and a row of ones for bias sums.
final class ConvWorkspace {
    let col = Blob(), tmp = Blob(), padded = Blob(), dW = Blob(), db = Blob(), ones = Blob()
    /// The sizes of the last reshape: the net reshapes before every forward, and an unchanged
    /// layer should not rebuild six shape arrays each time.
    private var sizes: Sizes?
    private struct Sizes: Equatable { var columns, products, padded, weights, outputs, ones: Int }

    func reshape(columns: Int, products: Int, padded paddedCount: Int, weights: Int, outputs: Int, ones n: Int) throws {
        let wanted = Sizes(columns: columns, products: products, padded: paddedCount, weights: weights, outputs: outputs, ones: n)
        guard wanted != sizes else { return }
        try col.reshape([columns])
        try tmp.reshape([products])
        try padded.reshape([paddedCount])
        try dW.reshape([weights])
        try db.reshape([outputs])
        try ones.reshape([n])
        ones.data.update(repeating: 1, count: n)
        sizes = wanted
    }
}
