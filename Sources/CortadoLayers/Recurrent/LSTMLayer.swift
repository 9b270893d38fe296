import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// LSTM as Caffe's: gates i, f, o, g from W_xc·x + b_c + W_hc·(cont·h_{t−1}) (in that order);
/// c_t = cont·f·c_{t−1} + i·g, h_t = o·tanh(c_t). Blobs W_xc [4H, I], b_c [4H], W_hc [4H, H].
final class LSTMLayer: RecurrentLayer {
    private let gates = Blob()       // [T, N, 4H]: i, f, o (sigmoid), g (tanh)
    private let cells = Blob()       // [T + 1, N, H]: c_{−1} … c_{T−1}
    private let hiddens = Blob()     // [T + 1, N, H]
    private let conted = Blob()      // [T, N, H]: cont·h_{t−1}
    private let tanhC = Blob()       // [T, N, H]
    private let scratch = Blob()     // [N, 4H] gate gradients
    private let carryH = Blob(), carryC = Blob(), hGrad = Blob()   // [N, H]
    private var ones: [Float] = []

    override var recurrentCount: Int { 2 }

    override func parameterShapes() -> [([Int], Bool)] {
        [([4 * hidden, inputSize], false), ([4 * hidden], true), ([4 * hidden, hidden], false)]
    }

    override func reshapeBuffers() throws {
        try gates.reshape([steps, batch, 4 * hidden])
        try cells.reshape([steps + 1, batch, hidden])
        try hiddens.reshape([steps + 1, batch, hidden])
        try conted.reshape([steps, batch, hidden])
        try tanhC.reshape([steps, batch, hidden])
        try scratch.reshape([batch, 4 * hidden])
        for b in [carryH, carryC, hGrad] { try b.reshape([batch, hidden]) }
        if ones.count < batch { ones = [Float](repeating: 1, count: batch) }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let H = hidden, NH = batch * hidden
        if exposeHidden {
            hiddens.data.update(from: bottom[2].data, count: NH)
            cells.data.update(from: bottom[3].data, count: NH)
        } else {
            hiddens.data.update(repeating: 0, count: NH)
            cells.data.update(repeating: 0, count: NH)
        }
        for t in 0..<steps {
            let cont = bottom[1].data + t * batch
            let g = gates.data + t * batch * 4 * H
            gate(hiddens.data + t * NH, cont: cont, into: conted.data + t * NH, width: H)
            gemm(false, true, batch, 4 * H, inputSize, 1, bottom[0].data + t * batch * inputSize, blobs[0].data, 0, g)
            ones.withUnsafeBufferPointer { gemm(false, false, batch, 4 * H, 1, 1, $0.baseAddress!, blobs[1].data, 1, g) }
            gemm(false, true, batch, 4 * H, H, 1, conted.data + t * NH, blobs[2].data, 1, g)
            let cPrev = cells.data + t * NH, c = cells.data + (t + 1) * NH, h = hiddens.data + (t + 1) * NH, tc = tanhC.data + t * NH
            for n in 0..<batch {
                let row = g + n * 4 * H
                for j in 0..<H {
                    let i = 1 / (1 + expf(-row[j])), f = 1 / (1 + expf(-row[H + j]))
                    let o = 1 / (1 + expf(-row[2 * H + j])), u = tanhf(row[3 * H + j])
                    (row[j], row[H + j], row[2 * H + j], row[3 * H + j]) = (i, f, o, u)
                    let k = n * H + j
                    c[k] = cont[n] * f * cPrev[k] + i * u
                    tc[k] = tanhf(c[k])
                    h[k] = o * tc[k]
                }
            }
        }
        top[0].data.update(from: hiddens.data + NH, count: steps * NH)
        if exposeHidden {
            top[1].data.update(from: hiddens.data + steps * NH, count: NH)
            top[2].data.update(from: cells.data + steps * NH, count: NH)
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        let H = hidden, NH = batch * hidden
        let dhNext = carryH.data, dcNext = carryC.data
        if exposeHidden {
            dhNext.update(from: top[1].diff, count: NH)
            dcNext.update(from: top[2].diff, count: NH)
        } else {
            dhNext.update(repeating: 0, count: NH)
            dcNext.update(repeating: 0, count: NH)
        }
        for t in stride(from: steps - 1, through: 0, by: -1) {
            let cont = bottom[1].data + t * batch, g = gates.data + t * batch * 4 * H
            let cPrev = cells.data + t * NH, tc = tanhC.data + t * NH, dy = top[0].diff + t * NH
            let dpre = scratch.data
            for n in 0..<batch {
                let row = g + n * 4 * H, d = dpre + n * 4 * H
                for j in 0..<H {
                    let k = n * H + j
                    let (i, f, o, u) = (row[j], row[H + j], row[2 * H + j], row[3 * H + j])
                    let dh = dy[k] + dhNext[k]
                    let dc = dh * o * (1 - tc[k] * tc[k]) + dcNext[k]
                    d[j] = dc * u * i * (1 - i)
                    d[H + j] = dc * cont[n] * cPrev[k] * f * (1 - f)
                    d[2 * H + j] = dh * tc[k] * o * (1 - o)
                    d[3 * H + j] = dc * i * (1 - u * u)
                    dcNext[k] = dc * cont[n] * f
                }
            }
            if needsParamGradient(0) { gemm(true, false, 4 * H, inputSize, batch, 1, dpre, bottom[0].data + t * batch * inputSize, 1, blobs[0].diff) }
            if needsParamGradient(1) { ones.withUnsafeBufferPointer { gemv(true, batch, 4 * H, 1, dpre, $0.baseAddress!, 1, blobs[1].diff) } }
            if needsParamGradient(2) { gemm(true, false, 4 * H, H, batch, 1, dpre, conted.data + t * NH, 1, blobs[2].diff) }
            if propagateDown[0] { gemm(false, false, batch, inputSize, 4 * H, 1, dpre, blobs[0].data, 0, bottom[0].diff + t * batch * inputSize) }
            gemm(false, false, batch, H, 4 * H, 1, dpre, blobs[2].data, 0, hGrad.data)
            gate(hGrad.data, cont: cont, into: dhNext, width: H)
        }
        if exposeHidden {
            if propagateDown[2] { bottom[2].diff.update(from: dhNext, count: NH) }
            if propagateDown[3] { bottom[3].diff.update(from: dcNext, count: NH) }
        }
    }
}
