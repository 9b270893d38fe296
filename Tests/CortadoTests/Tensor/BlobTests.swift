import Testing
@testable import CortadoBase

@Suite struct BlobTests {
    @Test func reshapeGrowsAndKeepsStorageWhenShrinking() throws {
        let b = Blob()
        try b.reshape([2, 3])
        #expect(b.count == 6 && b.dataArray == [Float](repeating: 0, count: 6))
        b.setData([1, 2, 3, 4, 5, 6])
        let storage = b.data
        try b.reshape([3])
        #expect(b.data == storage, "shrinking reuses the storage")
        #expect(b.dataArray == [1, 2, 3])
    }

    @Test func impossibleOrHugeShapesAreErrorsNotCrashes() throws {
        #expect(throws: ResourceError.self) { _ = try Blob(checked: [-1, 3]) }
        #expect(throws: ResourceError.self) { _ = try Blob(checked: [1 << 40, 1 << 40]) }   // overflows
        do {
            _ = try Blob(checked: [1 << 20, 1 << 20])                                         // 8 TiB with its gradient
            Issue.record("expected a memory error")
        } catch let e as ResourceError {
            #expect(e.description.contains("more than half of this machine"))
        }
        let small = Blob([2])
        #expect(throws: ResourceError.self) { try small.reshape([Int.max, 2]) }
        #expect(small.shape == [2], "a refused reshape leaves the blob as it was")
    }

    @Test func hugeInputShapeIsALayerError() throws {
        do {
            _ = try makeLayer(#"name: "in" type: "Input" top: "x" input_param { shape { dim: 100000 dim: 100000 dim: 1000 } }"#, bottoms: [])
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("memory"))
        }
    }
}
