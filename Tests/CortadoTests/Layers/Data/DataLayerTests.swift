import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoIO
@testable import CortadoConfig

/// Data layers produce tops and have no bottoms, so they have no gradient to check; these
/// tests check the values they produce by hand and that backward is never requested.
@Suite struct DataLayerTests {
    @Test func inputLayerShapesTops() throws {
        let (layer, tops) = try makeLayer("""
            name: "in" type: "Input" top: "data" top: "label"
            input_param { shape { dim: 2 dim: 3 dim: 4 dim: 5 } shape { dim: 2 } }
            """, bottoms: [])
        #expect(tops[0].shape == [2, 3, 4, 5])
        #expect(tops[1].shape == [2])
        #expect(!layer.hasBackward)
    }

    @Test func dummyDataConstantAndGaussian() throws {
        let (layer, tops) = try makeLayer("""
            name: "d" type: "DummyData" top: "a" top: "b"
            dummy_data_param {
              shape { dim: 2 dim: 3 } shape { dim: 1000 }
              data_filler { type: "constant" value: 4 } data_filler { type: "gaussian" mean: 1 std: 2 }
            }
            """, bottoms: [])
        try layer.forward(bottom: [], top: tops)
        #expect(tops[0].dataArray == [Float](repeating: 4, count: 6))
        let g = tops[1].dataArray
        let mean = g.reduce(0, +) / Float(g.count)
        #expect(abs(mean - 1) < 0.2)
        let before = g
        try layer.forward(bottom: [], top: tops)
        #expect(tops[1].dataArray != before, "random tops are refilled every pass")
    }

    @Test func dummyDataOldNumChannelsForm() throws {
        let (_, tops) = try makeLayer("""
            name: "d" type: "DummyData" top: "a"
            dummy_data_param { num: 2 channels: 3 height: 4 width: 5 data_filler { type: "uniform" min: 2 max: 3 } }
            """, bottoms: [])
        #expect(tops[0].shape == [2, 3, 4, 5])
        #expect(tops[0].dataArray.allSatisfy { $0 >= 2 && $0 < 3 })
    }

    /// Writes two .h5 files of 3 and 2 rows (data = row id, label = 10·row id) and a list file.
    static func writeHDF5Source(_ dir: String) throws -> String {
        for (name, rows, first) in [("a.h5", 3, 0), ("b.h5", 2, 3)] {
            let file = try HDF5File.create("\(dir)/\(name)")
            let ids = (0..<rows).map { Float(first + $0) }
            try file.write("data", floats: ids.flatMap { [$0, $0] }, shape: [rows, 2])
            try file.write("label", floats: ids.map { $0 * 10 }, shape: [rows])
        }
        let list = "\(dir)/list.txt"
        try write("\(dir)/a.h5\n\(dir)/b.h5\n", to: list)
        return list
    }

    @Test func hdf5DataReadsFilesInOrderAndWraps() throws {
        let dir = temporaryDirectory()
        let list = try Self.writeHDF5Source(dir)
        let (layer, tops) = try makeLayer("""
            name: "h" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "\(list)" batch_size: 4 }
            """, bottoms: [])
        #expect(tops[0].shape == [4, 2])
        #expect(tops[1].shape == [4])
        try layer.forward(bottom: [], top: tops)
        #expect(tops[1].dataArray == [0, 10, 20, 30])
        #expect(tops[0].dataArray == [0, 0, 1, 1, 2, 2, 3, 3])
        try layer.forward(bottom: [], top: tops)
        #expect(tops[1].dataArray == [40, 0, 10, 20])
    }

    @Test func hdf5DataShuffleVisitsEveryRowOncePerEpoch() throws {
        let dir = temporaryDirectory()
        let list = try Self.writeHDF5Source(dir)
        let (layer, tops) = try makeLayer("""
            name: "h" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "\(list)" batch_size: 5 shuffle: true }
            """, bottoms: [])
        try layer.forward(bottom: [], top: tops)
        #expect(Set(tops[1].dataArray) == [0, 10, 20, 30, 40])
    }

    @Test func hdf5DataStateRestoresPosition() throws {
        let dir = temporaryDirectory()
        let list = try Self.writeHDF5Source(dir)
        let text = """
            name: "h" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "\(list)" batch_size: 2 shuffle: true }
            """
        let (a, ta) = try makeLayer(text, bottoms: [])
        try a.forward(bottom: [], top: ta)
        let state = a.saveState()
        try a.forward(bottom: [], top: ta)
        try a.forward(bottom: [], top: ta)
        let expected = ta[1].dataArray
        let (b, tb) = try makeLayer(text, bottoms: [], seed: 12345)
        try b.restoreState(state)
        try b.forward(bottom: [], top: tb)
        try b.forward(bottom: [], top: tb)
        #expect(tb[1].dataArray == expected)
    }

    @Test func hdf5DataErrors() throws {
        let dir = temporaryDirectory()
        #expect(throws: ConfigError.self) {
            _ = try makeLayer(#"name: "h" type: "HDF5Data" top: "data" hdf5_data_param { source: "\#(dir)/none.txt" batch_size: 2 }"#, bottoms: [])
        }
        try write("\(dir)/missing.h5\n", to: "\(dir)/list.txt")
        #expect(throws: ConfigError.self) {
            _ = try makeLayer(#"name: "h" type: "HDF5Data" top: "data" hdf5_data_param { source: "\#(dir)/list.txt" batch_size: 2 }"#, bottoms: [])
        }
        let list = try Self.writeHDF5Source(dir)
        do {
            _ = try makeLayer(#"name: "h" type: "HDF5Data" top: "pixels" hdf5_data_param { source: "\#(list)" batch_size: 2 }"#, bottoms: [])
            Issue.record("a top with no dataset of its name must fail")
        } catch let e as ConfigError {
            #expect(e.description.contains("no dataset named \"pixels\""))
        }
    }

    @Test func splitCopiesForwardAndSumsGradients() throws {
        let x = Blob([3], values: [1, 2, 3])
        let (layer, tops) = try makeLayer(#"name: "s" type: "Split" bottom: "x" top: "a" top: "b""#, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].dataArray == [1, 2, 3])
        #expect(tops[1].dataArray == [1, 2, 3])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
    }
}
