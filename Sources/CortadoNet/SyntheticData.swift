import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import Foundation

/// Replaces data layers whose sources are absent by DummyData layers of the shapes they
/// declare, so a train_val definition can be summarised or timed without its dataset.
/// Shapes come from batch_size and crop_size / new_height × new_width / the mean file; where
/// a definition declares no image size, the well-known MNIST (1×28×28) and CIFAR (3×32×32)
/// sources are recognised by name. Anything else is an error that says what is missing.
package enum SyntheticData {
    package static func replace(in param: NetParameter) throws -> (NetParameter, [String]) {
        var out = param
        var notes: [String] = []
        for (i, layer) in param.layers.enumerated() {
            guard let shapes = try LayerRegistry.create(layer, phase: layer.phase ?? .test).syntheticTopShapes() else { continue }
            let tops = layer.top
            let dims = zip(tops, shapes).map { _, s in "shape { " + s.map { "dim: \($0)" }.joined(separator: " ") + " }" }.joined(separator: " ")
            let fillers = tops.indices.map { $0 == 0 ? #"data_filler { type: "uniform" }"# : #"data_filler { type: "constant" }"# }.joined(separator: " ")
            let text = "name: \"\(layer.name)\" type: \"DummyData\" " + tops.map { "top: \"\($0)\"" }.joined(separator: " ")
                + " dummy_data_param { \(dims) \(fillers) }"
            var parser = TextFormatParser(text: text, file: layer.location.file)
            var replacement = try LayerParameter(ConfigNode.validated(try parser.parseTopLevel(), as: "LayerParameter", path: "layer \"\(layer.name)\""))
            replacement.include = layer.include
            replacement.exclude = layer.exclude
            replacement.phase = layer.phase
            replacement.declaredType = layer.type
            out.layers[i] = replacement
            notes.append("layer \"\(layer.name)\" (\(layer.type)): source absent, synthetic tops \(shapes.map { $0.map(String.init).joined(separator: "×") }.joined(separator: ", "))")
        }
        return (out, notes)
    }
}
