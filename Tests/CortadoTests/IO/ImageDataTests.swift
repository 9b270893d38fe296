import CTurboJPEG
import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoIO
@testable import CortadoSolvers

/// A small image folder (PNG and JPEG written here) through convert-imageset, compute-image-mean,
/// the Data layer (LMDB) and the ImageData layer.
@Suite struct ImageDataTests {
    /// Writes 8 images of 10×12 pixels: label 0 dark, label 1 bright; even ones PNG, odd ones JPEG.
    static func makeFolder(_ dir: String) throws -> String {
        var rng = RNG(seed: 21)
        var list = ""
        for i in 0..<8 {
            let label = i % 2
            let pixels = (0..<(3 * 10 * 12)).map { _ in UInt8(label == 0 ? 20 + rng.below(40) : 180 + rng.below(50)) }
            let img = Image(channels: 3, height: 10, width: 12, pixels: pixels)
            let name = i % 4 < 2 ? "img\(i).png" : "img\(i).jpg"
            let bytes = name.hasSuffix(".png") ? try ImageSet.encodePNG(img) : try jpeg(img)
            try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/\(name)"))
            list += "\(name) \(label)\n"
        }
        try write(list, to: "\(dir)/list.txt")
        return "\(dir)/list.txt"
    }

    static func jpeg(_ img: Image) throws -> [UInt8] {
        var hwc = [UInt8](repeating: 0, count: img.pixels.count)
        for c in 0..<3 { for i in 0..<(img.height * img.width) { hwc[i * 3 + c] = img.pixels[c * img.height * img.width + i] } }
        let tj = tjInitCompress()!
        defer { tjDestroy(tj) }
        var buf: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let rc = tjCompress2(tj, hwc, Int32(img.width), 0, Int32(img.height), Int32(TJPF_BGR.rawValue), &buf, &size, Int32(TJSAMP_444.rawValue), 95, 0)
        guard rc == 0, let buf else { throw TestFailure("jpeg encode failed") }
        defer { tjFree(buf) }
        return Array(UnsafeBufferPointer(start: buf, count: Int(size)))
    }

    @Test func convertAndMeanMatchTheImages() throws {
        let dir = temporaryDirectory()
        let list = try Self.makeFolder(dir)
        #expect(try ImageSet.convert(root: dir + "/", list: list, db: "\(dir)/lmdb", options: .init()) == 8)
        let db = try LMDB.openForReading("\(dir)/lmdb")
        #expect(db.count == 8)
        #expect(try db.first())
        #expect(db.currentKey == "00000000_img0.png")
        let d = try Datum.decode(db.currentValue, source: "first")
        #expect(d.channels == 3 && d.height == 10 && d.width == 12 && d.label == 0 && !d.encoded)
        #expect(d.data == (try Image.load("\(dir)/img0.png", color: true)).pixels)

        let (mean, channels, count) = try ImageSet.mean(db: "\(dir)/lmdb")
        #expect(count == 8 && mean.shape == [1, 3, 10, 12])
        var expected = [Double](repeating: 0, count: 360)
        for i in 0..<8 {
            let img = try Image.load("\(dir)/img\(i).\(i % 4 < 2 ? "png" : "jpg")", color: true)
            for k in 0..<360 { expected[k] += Double(img.pixels[k]) / 8 }
        }
        expectClose(mean.dataArray, expected.map(Float.init), tolerance: 1e-4)
        #expect(channels.count == 3)
        try CaffeBinary.atomicWrite(CaffeBinary.encodeBlob(mean, legacy4D: true), to: "\(dir)/mean.binaryproto")
        let back = try CaffeBinary.readBlob("\(dir)/mean.binaryproto")
        #expect(back.legacy && back.shape == [1, 3, 10, 12] && back.values == mean.dataArray)
    }

    @Test func dataLayerCropsCentreAndSubtractsTheMeanInTest() throws {
        let dir = temporaryDirectory()
        let list = try Self.makeFolder(dir)
        try ImageSet.convert(root: dir + "/", list: list, db: "\(dir)/lmdb", options: .init())
        let (mean, _, _) = try ImageSet.mean(db: "\(dir)/lmdb")
        try CaffeBinary.atomicWrite(CaffeBinary.encodeBlob(mean, legacy4D: true), to: "\(dir)/mean.binaryproto")
        let (layer, tops) = try makeLayer("""
            name: "d" type: "Data" top: "data" top: "label"
            transform_param { crop_size: 8 scale: 0.5 mean_file: "\(dir)/mean.binaryproto" }
            data_param { source: "\(dir)/lmdb" batch_size: 3 backend: LMDB }
            """, bottoms: [], phase: .test)
        #expect(tops[0].shape == [3, 3, 8, 8])
        try layer.forward(bottom: [], top: tops)
        #expect(tops[1].dataArray == [0, 1, 0])
        let img = try Image.load("\(dir)/img0.png", color: true)
        let m = mean.dataArray
        var expected: [Float] = []
        for c in 0..<3 { for h in 1..<9 { for w in 2..<10 {
            let k = (c * 10 + h) * 12 + w
            expected.append((Float(img.pixels[k]) - m[k]) * 0.5)
        } } }
        expectClose(Array(tops[0].dataArray.prefix(192)), expected)
        // The next batch wraps around the 8 records: records 3, 4, 5 then 6, 7, 0.
        try layer.forward(bottom: [], top: tops)
        try layer.forward(bottom: [], top: tops)
        #expect(tops[1].dataArray == [0, 1, 0])
    }

    @Test func encodedRecordsDecodeToTheSamePixels() throws {
        let dir = temporaryDirectory()
        let list = try Self.makeFolder(dir)
        var o = ImageSet.Options()
        o.encoded = true
        try ImageSet.convert(root: dir + "/", list: list, db: "\(dir)/enc", options: o)
        try ImageSet.convert(root: dir + "/", list: list, db: "\(dir)/raw", options: .init())
        let text = { (db: String) in "name: \"d\" type: \"Data\" top: \"data\" top: \"label\" data_param { source: \"\(dir)/\(db)\" batch_size: 8 backend: LMDB }" }
        let (a, ta) = try makeLayer(text("enc"), bottoms: [], phase: .test)
        let (b, tb) = try makeLayer(text("raw"), bottoms: [], phase: .test)
        try a.forward(bottom: [], top: ta)
        try b.forward(bottom: [], top: tb)
        #expect(ta[0].dataArray == tb[0].dataArray)
    }

    /// Trains a tiny classifier for a few iterations and returns (first, last) smoothed losses.
    func train(_ dataLayer: String, dir: String) throws -> (Float, Float) {
        quietTestEnvironment()
        try write("""
            name: "tiny"
            \(dataLayer)
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 4 kernel_size: 3 weight_filler { type: "xavier" } } }
            layer { name: "ip" type: "InnerProduct" bottom: "conv" top: "ip" inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
            layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
            """, to: "\(dir)/net.prototxt")
        try write("net: \"net.prototxt\" base_lr: 0.01 momentum: 0.9 lr_policy: \"fixed\" max_iter: 40 random_seed: 5 average_loss: 5 snapshot_prefix: \"\(dir)/s\"",
                  to: "\(dir)/solver.prototxt")
        let s = try Solver(try SolverParameter.load(file: "\(dir)/solver.prototxt"), verbose: false)
        var losses: [Float] = []
        s.observers.append { if case .iteration(_, _, let loss, _) = $0 { losses.append(loss) } }
        try s.step(40)
        return (losses[4], losses.last!)
    }

    @Test func trainsThroughTheDataLayerWithMirrorCropAndMean() throws {
        let dir = temporaryDirectory()
        let list = try Self.makeFolder(dir)
        try ImageSet.convert(root: dir + "/", list: list, db: "\(dir)/lmdb", options: .init())
        let (mean, _, _) = try ImageSet.mean(db: "\(dir)/lmdb")
        try CaffeBinary.atomicWrite(CaffeBinary.encodeBlob(mean, legacy4D: true), to: "\(dir)/mean.binaryproto")
        let (first, last) = try train("""
            layer { name: "d" type: "Data" top: "data" top: "label"
                    transform_param { mirror: true crop_size: 8 scale: 0.0078125 mean_file: "\(dir)/mean.binaryproto" }
                    data_param { source: "\(dir)/lmdb" batch_size: 4 backend: LMDB } }
            """, dir: dir)
        #expect(last.isFinite && last < first * 0.5, "loss \(first) → \(last)")
    }

    @Test func trainsThroughTheImageDataLayer() throws {
        let dir = temporaryDirectory()
        let list = try Self.makeFolder(dir)
        let (first, last) = try train("""
            layer { name: "d" type: "ImageData" top: "data" top: "label"
                    transform_param { mirror: true crop_size: 6 scale: 0.0078125 mean_value: 128 }
                    image_data_param { source: "\(list)" root_folder: "\(dir)/" batch_size: 4 shuffle: true new_height: 8 new_width: 8 } }
            """, dir: dir)
        #expect(last.isFinite && last < first * 0.5, "loss \(first) → \(last)")
    }

    @Test func corruptInputsAreClearErrors() throws {
        let dir = temporaryDirectory()
        let list = try Self.makeFolder(dir)
        // An LMDB whose record is not a Datum.
        let db = try LMDB.create("\(dir)/bad")
        try db.put([("00000000_x", Array("this is not a datum at all, just text".utf8))])
        func message(_ text: String) -> String {
            do { _ = try makeLayer(text, bottoms: [], phase: .test); return "" } catch { return "\(error)" }
        }
        #expect(message(#"name: "d" type: "Data" top: "data" data_param { source: "\#(dir)/bad" batch_size: 1 backend: LMDB }"#).contains("not a Caffe Datum"))
        #expect(message(#"name: "d" type: "Data" top: "data" data_param { source: "\#(dir)/none" batch_size: 1 backend: LMDB }"#).contains("no such folder"))
        #expect(message(#"name: "d" type: "Data" top: "data" data_param { source: "\#(dir)/none" batch_size: 1 }"#).contains("LEVELDB"))
        // An image that does not decode.
        try Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3, 4, 5, 6, 7, 8]).write(to: URL(fileURLWithPath: "\(dir)/broken.png"))
        try write("broken.png 0\n", to: "\(dir)/broken.txt")
        #expect(message(#"name: "d" type: "ImageData" top: "data" image_data_param { source: "\#(dir)/broken.txt" root_folder: "\#(dir)/" }"#).contains("cannot decode PNG"))
        #expect(throws: DataError.self) {
            try ImageSet.convert(root: dir + "/", list: "\(dir)/broken.txt", db: "\(dir)/broken_lmdb", options: .init())
        }
        // A mean of the wrong shape.
        try CaffeBinary.atomicWrite(CaffeBinary.encodeBlob(Blob([1, 3, 5, 5]), legacy4D: true), to: "\(dir)/small_mean.binaryproto")
        let m = message("""
            name: "d" type: "ImageData" top: "data" transform_param { mean_file: "\(dir)/small_mean.binaryproto" }
            image_data_param { source: "\(list)" root_folder: "\(dir)/" }
            """)
        #expect(m.contains("does not fit"))
        #expect(message(#"name: "d" type: "ImageData" top: "data" transform_param { mean_file: "\#(dir)/nothere.binaryproto" } image_data_param { source: "\#(list)" root_folder: "\#(dir)/" }"#).contains("no such file"))
    }
}
