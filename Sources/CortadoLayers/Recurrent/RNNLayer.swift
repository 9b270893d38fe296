import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// RNN as Caffe's: h_t = tanh(W_xh·x + b_h + W_hh·(cont·h_{t−1})), o_t = tanh(W_ho·h_t + b_o);
/// the top is o. Blobs W_xh [H, I], b_h [H], W_hh [H, H], W_ho [H, H], b_o [H].
final class RNNLayer: RecurrentLayer {
    private let hiddens = Blob()     // [T + 1, N, H]
    private let conted = Blob()      // [T, N, H]
    private let daBuffer = Blob(), doBuffer = Blob(), dhNext = Blob(), hGrad = Blob()   // [N, H]
    private var ones: [Float] = []

    override func parameterShapes() -> [([Int], Bool)] {
        [([hidden, inputSize], false), ([hidden], true), ([hidden, hidden], false), ([hidden, hidden], false), ([hidden], true)]
    }

    override func reshapeBuffers() throws {
        try hiddens.reshape([steps + 1, batch, hidden])
        try conted.reshape([steps, batch, hidden])
        for b in [daBuffer, doBuffer, dhNext, hGrad] { try b.reshape([batch, hidden]) }
        if ones.count < batch { ones = [Float](repeating: 1, count: batch) }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let H = hidden, NH = batch * hidden
        if exposeHidden { hiddens.data.update(from: bottom[2].data, count: NH) } else { hiddens.data.update(repeating: 0, count: NH) }
        for t in 0..<steps {
            let h = hiddens.data + (t + 1) * NH, o = top[0].data + t * NH
            gate(hiddens.data + t * NH, cont: bottom[1].data + t * batch, into: conted.data + t * NH, width: H)
            gemm(false, true, batch, H, inputSize, 1, bottom[0].data + t * batch * inputSize, blobs[0].data, 0, h)
            ones.withUnsafeBufferPointer { gemm(false, false, batch, H, 1, 1, $0.baseAddress!, blobs[1].data, 1, h) }
            gemm(false, true, batch, H, H, 1, conted.data + t * NH, blobs[2].data, 1, h)
            for k in 0..<NH { h[k] = tanhf(h[k]) }
            gemm(false, true, batch, H, H, 1, h, blobs[3].data, 0, o)
            ones.withUnsafeBufferPointer { gemm(false, false, batch, H, 1, 1, $0.baseAddress!, blobs[4].data, 1, o) }
            for k in 0..<NH { o[k] = tanhf(o[k]) }
        }
        if exposeHidden { top[1].data.update(from: hiddens.data + steps * NH, count: NH) }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        let H = hidden, NH = batch * hidden
        if exposeHidden { dhNext.data.update(from: top[1].diff, count: NH) } else { dhNext.zeroData() }
        let dO = doBuffer.data, dA = daBuffer.data
        for t in stride(from: steps - 1, through: 0, by: -1) {
            let h = hiddens.data + (t + 1) * NH, o = top[0].data + t * NH, dy = top[0].diff + t * NH
            for k in 0..<NH { dO[k] = dy[k] * (1 - o[k] * o[k]) }
            if needsParamGradient(3) { gemm(true, false, H, H, batch, 1, dO, h, 1, blobs[3].diff) }
            if needsParamGradient(4) { ones.withUnsafeBufferPointer { gemv(true, batch, H, 1, dO, $0.baseAddress!, 1, blobs[4].diff) } }
            gemm(false, false, batch, H, H, 1, dO, blobs[3].data, 0, dA)
            for k in 0..<NH { dA[k] = (dA[k] + dhNext.data[k]) * (1 - h[k] * h[k]) }
            if needsParamGradient(0) { gemm(true, false, H, inputSize, batch, 1, dA, bottom[0].data + t * batch * inputSize, 1, blobs[0].diff) }
            if needsParamGradient(1) { ones.withUnsafeBufferPointer { gemv(true, batch, H, 1, dA, $0.baseAddress!, 1, blobs[1].diff) } }
            if needsParamGradient(2) { gemm(true, false, H, H, batch, 1, dA, conted.data + t * NH, 1, blobs[2].diff) }
            if propagateDown[0] { gemm(false, false, batch, inputSize, H, 1, dA, blobs[0].data, 0, bottom[0].diff + t * batch * inputSize) }
            gemm(false, false, batch, H, H, 1, dA, blobs[2].data, 0, hGrad.data)
            gate(hGrad.data, cont: bottom[1].data + t * batch, into: dhNext.data, width: H)
        }
        if exposeHidden && propagateDown[2] { bottom[2].diff.update(from: dhNext.data, count: NH) }
    }
}
