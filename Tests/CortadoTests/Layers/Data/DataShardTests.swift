import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoIO
@testable import CortadoLayers

/// Rank r of N reads batches r, r+N, r+2N … of the one-process stream, and after each group
/// its reader stands where the one process's stands (so snapshots resume on any rank count).
@Suite struct DataShardTests {
    /// `count` forwards of a fresh layer; each forward's tops, and the layer's state after it.
    static func batches(_ text: String, shard: DataShard, count: Int) throws -> [(tops: [[Float]], state: [Int64])] {
        let (layer, tops) = try makeLayer(text, bottoms: [])
        layer.shard = shard
        return try (0..<count).map { _ in
            try layer.forward(bottom: [], top: tops)
            return (tops.map(\.dataArray), layer.saveState())
        }
    }

    static func expectSharded(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let ranks = 3, groups = 4
        let whole = try batches(text, shard: .whole, count: ranks * groups)
        for rank in 0..<ranks {
            let mine = try batches(text, shard: DataShard(rank: rank, count: ranks), count: groups)
            for (j, batch) in mine.enumerated() {
                #expect(batch.tops == whole[j * ranks + rank].tops, "rank \(rank), batch \(j)", sourceLocation: sourceLocation)
                #expect(batch.state == whole[j * ranks + ranks - 1].state, "rank \(rank), state after group \(j)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func hdf5DataWithShuffle() throws {
        let dir = temporaryDirectory()
        let list = try DataLayerTests.writeHDF5Source(dir)
        try Self.expectSharded("""
            name: "h" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "\(list)" batch_size: 2 shuffle: true }
            """)
    }

    @Test func lmdbDataWithRandomCropAndMirror() throws {
        let dir = temporaryDirectory()
        let db = try LMDB.create("\(dir)/db")
        var rng = RNG(seed: 3)
        try db.put((0..<7).map { i in
            (String(format: "%08d", i), Datum(channels: 1, height: 5, width: 5, data: (0..<25).map { _ in UInt8(rng.below(256)) }, label: i).encode())
        })
        try Self.expectSharded("""
            name: "d" type: "Data" top: "data" top: "label"
            transform_param { crop_size: 3 mirror: true }
            data_param { source: "\(dir)/db" batch_size: 2 backend: LMDB }
            """)
    }

    @Test func imageDataWithShuffleCropAndMirror() throws {
        let dir = temporaryDirectory()
        let list = try ImageDataTests.makeFolder(dir)
        try Self.expectSharded("""
            name: "i" type: "ImageData" top: "data" top: "label"
            transform_param { crop_size: 6 mirror: true }
            image_data_param { source: "\(list)" root_folder: "\(dir)/" batch_size: 3 shuffle: true }
            """)
    }

    @Test func dummyDataWithRandomFillers() throws {
        try Self.expectSharded("""
            name: "d" type: "DummyData" top: "a" top: "b"
            dummy_data_param { shape { dim: 2 dim: 3 } shape { dim: 2 } data_filler { type: "gaussian" } data_filler { type: "constant" value: 4 } }
            """)
    }
}
