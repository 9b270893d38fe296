import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's EltwiseParameter.
package struct EltwiseParameter: LayerSettings {
    package enum Operation: String, Sendable { case prod = "PROD", sum = "SUM", max = "MAX" }
    package static let field = "eltwise_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "operation:enum(PROD,SUM,MAX) *coeff:float stable_prod_grad:bool"
    package var operation = Operation.sum
    /// One per bottom for SUM; none means all 1.
    package var coeff: [Float] = []
    var stableProdGrad = true

    package init(_ p: ConfigNode) throws {
        operation = p.enumeration("operation", default: operation)
        coeff = p.floats("coeff")
        stableProdGrad = p.bool("stable_prod_grad") ?? stableProdGrad
        guard coeff.isEmpty || operation == .sum else { throw p.error("coeff is only for operation SUM", field: "coeff") }
    }
}

/// Eltwise: element-wise PROD, SUM (with one coeff per bottom) or MAX of bottoms of one shape.
final class EltwiseLayer: Layer {
    private let op: EltwiseParameter.Operation
    private let coeffs: [Float]
    private let stableProdGrad: Bool
    private var argmax: [Int32] = []

    override var minBottoms: Int? { 2 }
    override var exactNumTops: Int? { 1 }

    /// Sum (with coefficients as Muls), Mul in bottom order (ONNX's takes two inputs), or Max.
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs x: [String]) throws -> Bool {
        let s: EltwiseParameter = try param.settings()
        switch s.operation {
        case .sum:
            var terms = x
            if !(s.coeff.isEmpty || s.coeff.allSatisfy({ $0 == 1 })) {
                for (i, v) in x.enumerated() where s.coeff[i] != 1 { terms[i] = graph.binary("Mul", v, graph.scalar("\(name)_coeff\(i)", s.coeff[i]), name) }
            }
            graph.single("Sum", name, terms)
        case .prod:
            var product = x[0]
            for v in x.dropFirst().dropLast() { product = graph.binary("Mul", product, v, name) }
            graph.single("Mul", name, [product, x.last!])
        case .max:
            graph.single("Max", name, x)
        }
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        let settings: EltwiseParameter = try param.settings()
        (op, stableProdGrad) = (settings.operation, settings.stableProdGrad)
        let n = param.bottom.count
        coeffs = settings.coeff.isEmpty ? Array(repeating: 1, count: n) : settings.coeff
        try super.init(param, phase: phase)
        guard coeffs.count == n else {
            throw try param.sub(EltwiseParameter.field).error("give one coeff per bottom (\(n)), or none", field: "coeff")
        }
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        for b in bottom.dropFirst() where b.shape != bottom[0].shape {
            throw error("Eltwise needs bottoms of one shape; found \(bottom[0].shape) and \(b.shape)")
        }
        try top[0].reshape(bottom[0].shape)
        if op == .max && argmax.count < bottom[0].count { argmax = [Int32](repeating: 0, count: bottom[0].count) }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let n = top[0].count, y = top[0].data
        switch op {
        case .prod:
            y.update(from: bottom[0].data, count: n)
            for b in bottom.dropFirst() { for i in 0..<n { y[i] *= b.data[i] } }
        case .sum:
            // One pass per thread's run over all bottoms (ResNet's shortcuts are large and
            // memory-bound); each element is summed in bottom order, whatever the split.
            let x = bottom.map { UnsafePointer($0.data) }, c = coeffs
            Parallel.forRanges(n, threads: threads) { r in
                if x.count == 2 { let (a, b, ca, cb) = (x[0], x[1], c[0], c[1]); for i in r { y[i] = ca * a[i] + cb * b[i] }; return }
                for i in r { y[i] = c[0] * x[0][i] }
                for k in 1..<x.count { let (xk, ck) = (x[k], c[k]); for i in r { y[i] += ck * xk[i] } }
            }
        case .max:
            for i in 0..<n {
                var best = bottom[0].data[i], arg: Int32 = 0
                for (k, b) in bottom.enumerated().dropFirst() where b.data[i] > best { best = b.data[i]; arg = Int32(k) }
                y[i] = best
                argmax[i] = arg
            }
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        let n = top[0].count, dy = top[0].diff
        for (k, b) in bottom.enumerated() where propagateDown[k] {
            let dx = b.diff
            switch op {
            case .prod:
                if stableProdGrad {
                    // Product of the other bottoms, without dividing by this one.
                    dx.update(from: dy, count: n)
                    for (j, o) in bottom.enumerated() where j != k { for i in 0..<n { dx[i] *= o.data[i] } }
                } else {
                    for i in 0..<n { dx[i] = dy[i] * top[0].data[i] / b.data[i] }
                }
            case .sum:
                let ck = coeffs[k]
                Parallel.forRanges(n, threads: threads) { r in
                    if ck == 1 { (dx + r.lowerBound).update(from: dy + r.lowerBound, count: r.count) } else { for i in r { dx[i] = ck * dy[i] } }
                }
            case .max:
                for i in 0..<n { dx[i] = argmax[i] == Int32(k) ? dy[i] : 0 }
            }
        }
    }
}
