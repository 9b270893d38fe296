import Foundation

/// Replaces data layers whose sources are absent by DummyData layers of the shapes they
/// declare, so a train_val definition can be summarised or timed without its dataset.
/// Shapes come from batch_size and crop_size / new_height × new_width / the mean file; where
/// a definition declares no image size, the well-known MNIST (1×28×28) and CIFAR (3×32×32)
/// sources are recognised by name. Anything else is an error that says what is missing.
public enum SyntheticData {
    public static func replace(in param: NetParameter) throws -> (NetParameter, [String]) {
        var out = param
        var notes: [String] = []
        for (i, layer) in param.layers.enumerated() {
            guard let shapes = try declaredShapes(layer) else { continue }
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

    /// The top shapes a data layer declares, or nil when its source is present (or it is no data layer).
    static func declaredShapes(_ l: LayerParameter) throws -> [[Int]]? {
        let t = l.sub("transform_param")
        let crop = t.int("crop_size") ?? 0
        func shapes(batch: Int, channels: Int, height: Int, width: Int) -> [[Int]] {
            let h = crop > 0 ? crop : height, w = crop > 0 ? crop : width
            return [[batch, channels, h, w]] + (l.top.count > 1 ? [[batch]] : [])
        }
        switch l.type {
        case "Data":
            let p = l.sub("data_param")
            guard let source = p.string("source"), !FileManager.default.fileExists(atPath: source) else { return nil }
            let batch = p.int("batch_size") ?? 1
            let gray = t.bool("force_gray") == true
            if let size = meanSize(t) { return shapes(batch: batch, channels: size.c, height: size.h, width: size.w) }
            let lower = source.lowercased()
            if lower.contains("mnist") { return shapes(batch: batch, channels: 1, height: 28, width: 28) }
            if lower.contains("cifar") { return shapes(batch: batch, channels: 3, height: 32, width: 32) }
            guard crop > 0 else {
                throw l.error("its source \(source) is absent and it declares no image size (crop_size or a mean_file), so its shape cannot be known; make the data available")
            }
            return shapes(batch: batch, channels: gray ? 1 : 3, height: crop, width: crop)
        case "ImageData":
            let p = l.sub("image_data_param")
            guard let source = p.string("source"), !FileManager.default.fileExists(atPath: source) else { return nil }
            let h = p.int("new_height") ?? 0, w = p.int("new_width") ?? 0
            guard crop > 0 || (h > 0 && w > 0) else {
                throw l.error("its source \(source) is absent and it declares no image size (new_height/new_width or crop_size)")
            }
            return shapes(batch: p.int("batch_size") ?? 1, channels: (p.bool("is_color") ?? true) ? 3 : 1, height: h, width: w)
        case "HDF5Data":
            let p = l.sub("hdf5_data_param")
            guard let source = p.string("source"), !FileManager.default.fileExists(atPath: source) else { return nil }
            throw l.error("its source \(source) is absent, and HDF5 files alone say what shape their datasets have; make the data available")
        default:
            return nil
        }
    }

    static func meanSize(_ t: ConfigNode) -> (c: Int, h: Int, w: Int)? {
        guard let file = t.string("mean_file"), let blob = try? CaffeBinary.readBlob(file), blob.shape.count >= 3 else { return nil }
        let s = blob.shape.suffix(3).map { $0 }
        return (s[0], s[1], s[2])
    }
}
