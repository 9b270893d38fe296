import CDNNL

/// One convolution geometry at one batch size through oneDNN (Debian's libdnnl 2.6): forward,
/// weight gradient and input gradient. oneDNN's fast kernels want blocked layouts (channels in
/// groups of 16), so each call reorders Cortado's NCHW blobs in and out; the reorders are
/// cheap beside the 2.5–3.5× they buy on convolutions with many channels. Each call runs
/// oneDNN single-threaded on the calling thread: `ConvolutionLayer` gives each of its threads
/// its own images and its own `DNNLConvolution`, as with its im2col path.
package final class DNNLConvolution {
    /// What oneDNN needs to know.
    package struct Shape {
        package var images: Int
        package var geometry: ConvGeometry
        package var outputs: Int, groups: Int
        package var bias: Bool
        /// bf16: the inputs, weights and output gradients go in as bf16 (`Precision`).
        package var precision: Precision

        package init(images: Int, geometry: ConvGeometry, outputs: Int, groups: Int, bias: Bool, precision: Precision = .fp32) {
            (self.images, self.geometry, self.outputs, self.groups, self.bias) = (images, geometry, outputs, groups, bias)
            self.precision = precision
        }
    }

    private let forwardStep: Step
    private let weightStep: Step
    private let dataStep: Step
    /// How much larger the forward pass's input × output channel product is in oneDNN's
    /// chosen layouts than in the net: channels padded to blocks of 16 are work done on zeros
    /// (LeNet's conv2, 20 → 50 channels, computes 32 → 64: 2.05).
    package let channelPadding: Double
    /// Whether the weight gradient reads the input in oneDNN's blocked layout. With fewer input
    /// channels than a block (a first layer on RGB images) oneDNN keeps the input plain, and
    /// that kernel sums each weight's products over the whole image in one running float: on
    /// SqueezeNet's and MobileNet's conv1 its gradient was 7× further from an exact (double)
    /// sum than im2col + sgemm's, and 400× Caffe's own sensitivity on real nets. Such layers
    /// compute their backward pass on im2col (`ConvolutionLayer`).
    package let weightGradientIsBlocked: Bool

    /// nil when oneDNN offers no implementation for this shape.
    package init?(_ shape: Shape) {
        let s = shape.geometry, images = shape.images, outputs = shape.outputs, groups = shape.groups
        guard let engine = DNNLEngine.shared else { return nil }
        // oneDNN sizes a primitive's work split by the creating thread's OpenMP thread count;
        // it runs on one thread, so it must be made for one.
        omp_set_num_threads(1)
        let src = Self.desc([images, s.channels, s.height, s.width], dnnl_nchw)
        let dst = Self.desc([images, outputs, s.outHeight, s.outWidth], dnnl_nchw)
        let wei = groups == 1 ? Self.desc([outputs, s.channels, s.kernelH, s.kernelW], dnnl_oihw)
            : Self.desc([groups, outputs / groups, s.channels / groups, s.kernelH, s.kernelW], dnnl_goihw)
        let bia = Self.desc([outputs], dnnl_x)
        // What a step reads may be bf16; what it writes is fp32 (the output, the gradients).
        let low = shape.precision.dnnlInputType
        let srcDims = [images, s.channels, s.height, s.width], dstDims = [images, outputs, s.outHeight, s.outWidth]
        let weiDims = groups == 1 ? [outputs, s.channels, s.kernelH, s.kernelW] : [groups, outputs / groups, s.channels / groups, s.kernelH, s.kernelW]
        var anySrc = Self.desc(srcDims, dnnl_format_tag_any, low), anyDiffSrc = Self.desc(srcDims, dnnl_format_tag_any)
        var anyDst = Self.desc(dstDims, dnnl_format_tag_any), anyDiffDst = Self.desc(dstDims, dnnl_format_tag_any, low)
        var anyWei = Self.desc(weiDims, dnnl_format_tag_any, low), anyDiffWei = Self.desc(weiDims, dnnl_format_tag_any)
        let strides: [Int64] = [Int64(s.strideH), Int64(s.strideW)]
        let dilates: [Int64] = [Int64(s.dilationH - 1), Int64(s.dilationW - 1)]
        let padL: [Int64] = [Int64(s.padH), Int64(s.padW)]
        // Caffe's output size floors; oneDNN wants the right padding that gives exactly it.
        let padR: [Int64] = [Int64((s.outHeight - 1) * s.strideH + (s.dilationH * (s.kernelH - 1) + 1) - s.height - s.padH),
                             Int64((s.outWidth - 1) * s.strideW + (s.dilationW * (s.kernelW - 1) + 1) - s.width - s.padW)]
        let biasDesc = UnsafeMutablePointer<dnnl_memory_desc_t>.allocate(capacity: 1)
        biasDesc.initialize(to: bia)
        defer { biasDesc.deallocate() }
        let optionalBias = shape.bias ? UnsafePointer(biasDesc) : nil

        var fd = dnnl_convolution_desc_t()
        guard dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &anySrc, &anyWei,
                                                         optionalBias, &anyDst, strides, dilates, padL, padR) == dnnl_success,
              let fpd = engine.primitiveDesc(&fd, hint: nil) else { return nil }
        channelPadding = Self.channelPadding(fpd)
        var wd = dnnl_convolution_desc_t()
        guard dnnl_dilated_convolution_backward_weights_desc_init(&wd, dnnl_convolution_direct, &anySrc, &anyDiffWei, optionalBias,
                                                                  &anyDiffDst, strides, dilates, padL, padR) == dnnl_success,
              let wpd = engine.primitiveDesc(&wd, hint: fpd) else { dnnl_primitive_desc_destroy(fpd); return nil }
        weightGradientIsBlocked = Self.isBlocked(wpd, dnnl_query_src_md)
        var dd = dnnl_convolution_desc_t()
        guard dnnl_dilated_convolution_backward_data_desc_init(&dd, dnnl_convolution_direct, &anyDiffSrc, &anyWei, &anyDiffDst,
                                                               strides, dilates, padL, padR) == dnnl_success,
              let dpd = engine.primitiveDesc(&dd, hint: fpd) else {
            dnnl_primitive_desc_destroy(fpd); dnnl_primitive_desc_destroy(wpd); return nil
        }
        // Primitives keep what they need of their descriptors.
        defer { dnnl_primitive_desc_destroy(fpd); dnnl_primitive_desc_destroy(wpd); dnnl_primitive_desc_destroy(dpd) }

        guard let f = Step(engine, fpd, inputs: [(DNNL_ARG_SRC, src, dnnl_query_src_md), (DNNL_ARG_WEIGHTS, wei, dnnl_query_weights_md)]
                               + (shape.bias ? [(DNNL_ARG_BIAS, bia, dnnl_query_weights_md)] : []),
                           outputs: [(DNNL_ARG_DST, dst, dnnl_query_dst_md)]),
              let w = Step(engine, wpd, inputs: [(DNNL_ARG_SRC, src, dnnl_query_src_md), (DNNL_ARG_DIFF_DST, dst, dnnl_query_diff_dst_md)],
                           outputs: [(DNNL_ARG_DIFF_WEIGHTS, wei, dnnl_query_diff_weights_md)]
                               + (shape.bias ? [(DNNL_ARG_DIFF_BIAS, bia, dnnl_query_diff_weights_md)] : [])),
              let d = Step(engine, dpd, inputs: [(DNNL_ARG_WEIGHTS, wei, dnnl_query_weights_md), (DNNL_ARG_DIFF_DST, dst, dnnl_query_diff_dst_md)],
                           outputs: [(DNNL_ARG_DIFF_SRC, src, dnnl_query_diff_src_md)])
        else { return nil }
        forwardStep = f; weightStep = w; dataStep = d
    }

    /// Bytes of `CallScratch` block each call needs.
    package var scratchBytes: Int { max(forwardStep.scratchBytes, weightStep.scratchBytes, dataStep.scratchBytes) }

    /// y = conv(x, w) + b.
    package func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
                 scratch: UnsafeMutableRawPointer?) {
        forwardStep.bind(input: 0, x)
        forwardStep.bind(input: 1, w)
        if let b { forwardStep.bind(input: 2, b) }
        forwardStep.bind(output: 0, y)
        forwardStep.execute(scratch: scratch)
    }

    /// dW = Σ dyᵀ ⊛ x and db = Σ dy, overwritten (not added).
    package func weightGradient(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dW: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>?,
                        scratch: UnsafeMutableRawPointer?) {
        weightStep.bind(input: 0, x)
        weightStep.bind(input: 1, dy)
        weightStep.bind(output: 0, dW)
        if let db { weightStep.bind(output: 1, db) }
        weightStep.execute(scratch: scratch)
    }

    /// dx, overwritten.
    package func dataGradient(_ w: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                      scratch: UnsafeMutableRawPointer?) {
        dataStep.bind(input: 0, w)
        dataStep.bind(input: 1, dy)
        dataStep.bind(output: 0, dx)
        dataStep.execute(scratch: scratch)
    }

    private static func channelPadding(_ pd: dnnl_primitive_desc_t) -> Double {
        func ratio(_ query: dnnl_query_t) -> Double {
            guard let md = dnnl_primitive_desc_query_md(pd, query, 0), md.pointee.dims.1 > 0 else { return 1 }
            return Double(md.pointee.padded_dims.1) / Double(md.pointee.dims.1)
        }
        return ratio(dnnl_query_src_md) * ratio(dnnl_query_dst_md)
    }

    private static func isBlocked(_ pd: dnnl_primitive_desc_t, _ query: dnnl_query_t) -> Bool {
        guard let md = dnnl_primitive_desc_query_md(pd, query, 0) else { return false }
        return md.pointee.format_kind == dnnl_blocked && md.pointee.format_desc.blocking.inner_nblks > 0
    }

    private static func desc(_ shape: [Int], _ tag: dnnl_format_tag_t, _ type: dnnl_data_type_t = dnnl_f32) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        _ = dnnl_memory_desc_init_by_tag(&md, Int32(shape.count), shape.map { Int64($0) }, type, tag)
        return md
    }
}

/// The CPU engine, made once, and the attributes every primitive is made with; nil when
/// oneDNN cannot start.
final class DNNLEngine: @unchecked Sendable {
    let engine: dnnl_engine_t
    /// Scratchpads owned by each primitive (`dnnl_scratchpad_mode_user`): oneDNN's own is one
    /// global buffer, which two of Cortado's threads running primitives at once would share.
    let attributes: dnnl_primitive_attr_t

    static let shared: DNNLEngine? = {
        var e: dnnl_engine_t?
        guard dnnl_engine_create(&e, dnnl_cpu, 0) == dnnl_success, let engine = e else { return nil }
        var a: dnnl_primitive_attr_t?
        guard dnnl_primitive_attr_create(&a) == dnnl_success, let attributes = a,
              dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user) == dnnl_success else { return nil }
        return DNNLEngine(engine: engine, attributes: attributes)
    }()

    private init(engine: dnnl_engine_t, attributes: dnnl_primitive_attr_t) {
        self.engine = engine
        self.attributes = attributes
    }

    func primitiveDesc(_ op: UnsafeMutablePointer<dnnl_convolution_desc_t>, hint: dnnl_primitive_desc_t?) -> dnnl_primitive_desc_t? {
        var pd: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&pd, op, attributes, engine, hint) == dnnl_success else { return nil }
        return pd
    }
}

/// A primitive with the scratchpad it asked for; both are destroyed with it. The scratchpad's
/// bytes come from the step's share of `CallScratch` at each call.
private final class Executable {
    let primitive: dnnl_primitive_t
    let scratch: dnnl_memory_t?

    init?(_ engine: DNNLEngine, _ pd: dnnl_primitive_desc_t) {
        var p: dnnl_primitive_t?
        guard dnnl_primitive_create(&p, pd) == dnnl_success, let p else { return nil }
        primitive = p
        var sm: dnnl_memory_t?
        if let smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0), dnnl_memory_desc_get_size(smd) > 0 {
            guard dnnl_memory_create(&sm, smd, engine.engine, Step.none) == dnnl_success else { dnnl_primitive_destroy(p); return nil }
        }
        scratch = sm
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        if let scratch { dnnl_memory_destroy(scratch) }
    }

    /// The execution arguments with the scratchpad added; made once, as the memories (whose
    /// data pointers change per call) stay the same objects.
    func arguments(_ args: [(Int32, dnnl_memory_t)]) -> [dnnl_exec_arg_t] {
        args.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1) }
            + (scratch.map { [dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: $0)] } ?? [])
    }

    package func run(_ stream: dnnl_stream_t, _ args: [dnnl_exec_arg_t]) {
        _ = args.withUnsafeBufferPointer { dnnl_primitive_execute(primitive, stream, Int32($0.count), $0.baseAddress) }
    }
}

/// One primitive with its arguments: for each, a memory in Cortado's layout (its pointer set
/// per call) and, where the primitive wants another layout, a buffer and a reorder. Each step
/// has its own stream, and its buffers and scratchpads are placed in the calling part's block
/// of `CallScratch`, so steps of different threads run at the same time.
final class Step {
    private struct Argument {
        var id: Int32
        var user: dnnl_memory_t
        /// The primitive's own memory and the reorder into (inputs) or out of (outputs) it,
        /// with the reorder's arguments.
        var inner: dnnl_memory_t?
        var reorder: Executable?
        var reorderArguments: [dnnl_exec_arg_t] = []
    }
    private let stream: dnnl_stream_t
    private let executable: Executable
    private var inputs: [Argument] = []
    private var outputs: [Argument] = []
    private var arguments: [dnnl_exec_arg_t] = []
    /// oneDNN's own buffers (reordered arguments, scratchpads) and their offsets in the block.
    private var placed: [(memory: dnnl_memory_t, offset: Int)] = []
    /// Bytes of scratch block one call needs.
    private(set) var scratchBytes = 0

    typealias Spec = (id: Int32, user: dnnl_memory_desc_t, query: dnnl_query_t)

    init?(_ engine: DNNLEngine, _ pd: dnnl_primitive_desc_t, inputs inSpecs: [Spec], outputs outSpecs: [Spec]) {
        var st: dnnl_stream_t?
        guard dnnl_stream_create(&st, engine.engine, dnnl_stream_default_flags.rawValue) == dnnl_success, let st,
              let e = Executable(engine, pd) else { return nil }
        stream = st
        executable = e
        for (spec, isInput) in inSpecs.map({ ($0, true) }) + outSpecs.map({ ($0, false) }) {
            // Bias and its gradient are the weights' second argument (index 1).
            let index: Int32 = (spec.id == DNNL_ARG_BIAS || spec.id == DNNL_ARG_DIFF_BIAS) ? 1 : 0
            guard let inner = dnnl_primitive_desc_query_md(pd, spec.query, index),
                  let arg = Self.argument(engine, spec, inner: inner, input: isInput) else { return nil }
            if isInput { inputs.append(arg) } else { outputs.append(arg) }
        }
        arguments = executable.arguments((inputs + outputs).map { ($0.id, $0.inner ?? $0.user) })
        for m in [executable.scratch] + (inputs + outputs).flatMap({ [$0.inner, $0.reorder?.scratch] }) {
            if let m { place(m) }
        }
    }

    /// Gives `memory` the next 64-byte-aligned span of the block.
    private func place(_ memory: dnnl_memory_t) {
        var md: UnsafePointer<dnnl_memory_desc_t>?
        guard dnnl_memory_get_memory_desc(memory, &md) == dnnl_success, let md else { return }
        let bytes = dnnl_memory_desc_get_size(md)
        guard bytes > 0 else { return }
        placed.append((memory, scratchBytes))
        scratchBytes += (bytes + 63) & ~63
    }

    deinit {
        for a in inputs + outputs {
            dnnl_memory_destroy(a.user)
            if let inner = a.inner { dnnl_memory_destroy(inner) }
        }
        dnnl_stream_destroy(stream)
    }

    /// DNNL_MEMORY_NONE, which Swift does not import: memory whose bytes are set per call.
    static var none: UnsafeMutableRawPointer? { nil }

    private static func argument(_ engine: DNNLEngine, _ spec: Spec, inner: UnsafePointer<dnnl_memory_desc_t>, input: Bool) -> Argument? {
        var userDesc = spec.user
        var user: dnnl_memory_t?
        guard dnnl_memory_create(&user, &userDesc, engine.engine, none) == dnnl_success, let user else { return nil }
        guard dnnl_memory_desc_equal(&userDesc, inner) == 0 else { return Argument(id: spec.id, user: user) }
        var mem: dnnl_memory_t?
        guard dnnl_memory_create(&mem, inner, engine.engine, none) == dnnl_success, let mem else { return nil }
        var rpd: dnnl_primitive_desc_t?
        let ok = input ? dnnl_reorder_primitive_desc_create(&rpd, &userDesc, engine.engine, inner, engine.engine, engine.attributes)
                       : dnnl_reorder_primitive_desc_create(&rpd, inner, engine.engine, &userDesc, engine.engine, engine.attributes)
        guard ok == dnnl_success, let rpd else { return nil }
        defer { dnnl_primitive_desc_destroy(rpd) }
        guard let r = Executable(engine, rpd) else { return nil }
        let (from, to) = input ? (user, mem) : (mem, user)
        return Argument(id: spec.id, user: user, inner: mem, reorder: r,
                        reorderArguments: r.arguments([(DNNL_ARG_FROM, from), (DNNL_ARG_TO, to)]))
    }

    /// Points input or output `index` (in the order the step was made with) at Cortado's memory.
    func bind(input index: Int, _ p: UnsafePointer<Float>) {
        dnnl_memory_set_data_handle(inputs[index].user, UnsafeMutableRawPointer(mutating: p))
    }

    func bind(output index: Int, _ p: UnsafeMutablePointer<Float>) {
        dnnl_memory_set_data_handle(outputs[index].user, UnsafeMutableRawPointer(p))
    }

    /// Reorders the inputs in, runs the primitive, reorders the outputs out, and waits.
    /// `scratch` holds at least `scratchBytes`.
    func execute(scratch: UnsafeMutableRawPointer?) {
        if let scratch {
            for (memory, offset) in placed { dnnl_memory_set_data_handle(memory, scratch + offset) }
        }
        omp_set_num_threads(1)
        for a in inputs { a.reorder?.run(stream, a.reorderArguments) }
        executable.run(stream, arguments)
        for a in outputs { a.reorder?.run(stream, a.reorderArguments) }
        _ = dnnl_stream_wait(stream)
    }
}
