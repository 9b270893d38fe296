import Foundation
import Testing
@testable import CortadoBase

@Suite struct RecurrentLayerTests {
    func sigmoid(_ v: Float) -> Float { 1 / (1 + expf(-v)) }

    @Test func lstmOneStepByHand() throws {
        // T = 1, N = 1, I = 1, H = 1; gate rows i, f, o, g; previous state through expose_hidden.
        let x = Blob([1, 1, 1], values: [2]), cont = Blob([1, 1], values: [1])
        let h0 = Blob([1, 1, 1], values: [0.5]), c0 = Blob([1, 1, 1], values: [-1])
        let (layer, tops) = try makeLayer(#"name: "l" type: "LSTM" bottom: "x" bottom: "cont" bottom: "h0" bottom: "c0" top: "h" top: "hT" top: "cT" recurrent_param { num_output: 1 expose_hidden: true }"#,
                                          bottoms: [x, cont, h0, c0])
        #expect(layer.blobs.map(\.shape) == [[4, 1], [4], [4, 1]])
        layer.blobs[0].setData([0.1, 0.2, 0.3, 0.4]); layer.blobs[1].setData([0, 0.5, 0, -0.5]); layer.blobs[2].setData([1, -1, 0.5, 2])
        try layer.forward(bottom: [x, cont, h0, c0], top: tops)
        let i = sigmoid(0.2 + 0.5), f = sigmoid(0.4 + 0.5 - 0.5), o = sigmoid(0.6 + 0.25), g = tanhf(0.8 - 0.5 + 1)
        let c = f * -1 + i * g, h = o * tanhf(c)
        expectClose(tops[0].dataArray, [h])
        expectClose(tops[1].dataArray, [h])
        expectClose(tops[2].dataArray, [c])
    }

    @Test func contCutsTheRecurrence() throws {
        // With cont 0 at step 1, step 1 ignores step 0: it equals a fresh sequence on the same input.
        let x = Blob([2, 1, 2], values: [1, -1, 1, -1]), cont = Blob([2, 1], values: [0, 0])
        let (layer, tops) = try makeLayer(#"name: "l" type: "LSTM" bottom: "x" bottom: "cont" top: "h" recurrent_param { num_output: 3 weight_filler { type: "uniform" min: -1 max: 1 } }"#, bottoms: [x, cont])
        try layer.forward(bottom: [x, cont], top: tops)
        #expect(Array(tops[0].dataArray[0..<3]) == Array(tops[0].dataArray[3..<6]))
        cont.setData([0, 1])
        try layer.forward(bottom: [x, cont], top: tops)
        #expect(Array(tops[0].dataArray[0..<3]) != Array(tops[0].dataArray[3..<6]))
    }

    @Test func rnnOneStepByHand() throws {
        let x = Blob([1, 1, 1], values: [1]), cont = Blob([1, 1], values: [1]), h0 = Blob([1, 1, 1], values: [0.5])
        let (layer, tops) = try makeLayer(#"name: "r" type: "RNN" bottom: "x" bottom: "cont" bottom: "h0" top: "o" top: "hT" recurrent_param { num_output: 1 expose_hidden: true }"#, bottoms: [x, cont, h0])
        #expect(layer.blobs.map(\.shape) == [[1, 1], [1], [1, 1], [1, 1], [1]])
        for (b, v) in zip(layer.blobs, [Float(0.5), 0.1, -1, 2, 0.2]) { b.setData([v]) }
        try layer.forward(bottom: [x, cont, h0], top: tops)
        let h = tanhf(0.5 + 0.1 - 0.5), o = tanhf(2 * h + 0.2)
        expectClose(tops[0].dataArray, [o])
        expectClose(tops[1].dataArray, [h])
    }

    @Test(arguments: ["LSTM", "RNN"]) func gradientCheck(type: String) throws {
        let x = randomBlob([3, 2, 2], seed: 131), cont = Blob([3, 2], values: [0, 0, 1, 1, 1, 0])
        let fillers = #"weight_filler { type: "uniform" min: -0.5 max: 0.5 } bias_filler { type: "uniform" min: -0.5 max: 0.5 }"#
        let (layer, tops) = try makeLayer(#"name: "r" type: "\#(type)" bottom: "x" bottom: "cont" top: "h" recurrent_param { num_output: 3 \#(fillers) }"#, bottoms: [x, cont])
        try GradientChecker().check(layer, bottoms: [x, cont], tops: tops, checkBottoms: [0])
        let states = type == "LSTM" ? 2 : 1
        let extra = (0..<states).map { randomBlob([1, 2, 3], seed: 140 + UInt64($0)) }
        let stateBottoms = (0..<states).map { #"bottom: "s\#($0)""# }.joined(separator: " ")
        let stateTops = (0..<states).map { #"top: "t\#($0)""# }.joined(separator: " ")
        let (exposed, te) = try makeLayer(#"name: "r" type: "\#(type)" bottom: "x" bottom: "cont" \#(stateBottoms) top: "h" \#(stateTops) recurrent_param { num_output: 3 expose_hidden: true \#(fillers) }"#,
                                          bottoms: [x, cont] + extra)
        try GradientChecker().check(exposed, bottoms: [x, cont] + extra, tops: te, checkBottoms: [0] + (0..<states).map { 2 + $0 })
    }
}
