import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Caffe's HDF5DataParameter.
struct HDF5DataParameter: LayerSettings {
    static let field = "hdf5_data_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "source:string batch_size:int shuffle:bool"
    var source: String
    var batchSize: Int
    var shuffle = false
    let node: ConfigNode

    init(_ p: ConfigNode) throws {
        node = p
        guard let s = p.string("source") else { throw p.error("hdf5_data_param needs a source (a text file listing .h5 files)") }
        source = s
        guard let b = p.int("batch_size"), b > 0 else {
            throw p.error("hdf5_data_param needs batch_size > 0", field: p.has("batch_size") ? "batch_size" : nil)
        }
        batchSize = b
        shuffle = p.bool("shuffle") ?? shuffle
    }
}

/// HDF5Data: reads the .h5 files listed in `source` (one path per line), one file open at a
/// time; each top is the dataset of the same name, first axis = example. Each batch is read
/// from the file (one hyperslab per run of consecutive rows), so memory holds one batch, not
/// the dataset: Fashion-MNIST's 188 MB training set costs 200 KB. With `shuffle`, the
/// file order and the rows within each file are shuffled, as in Caffe. The read position and
/// the shuffle state are saved in solverstates, so a resumed run sees the same batches.
final class HDF5DataLayer: Layer {
    private var files: [String] = []
    private let settings: HDF5DataParameter
    private var batchSize: Int { settings.batchSize }
    private var shuffle: Bool { settings.shuffle }
    private var rng = RNG(seed: 0)
    private var filePermutation: [Int] = []
    private var dataPermutation: [Int] = []
    private var currentFile = 0
    private var currentRow = 0
    private var loadedFile = -1
    /// The open file's dataset for each top.
    private var datasets: [HDF5Rows] = []
    /// Each top's example shape (its dataset's shape after the first axis).
    private var exampleShapes: [[Int]] = []
    private var rows = 0

    override var exactNumBottoms: Int? { 0 }
    override var minTops: Int? { 1 }
    override var hasBackward: Bool { false }
    override var dataSource: String? { settings.source }
    /// A list that names an absent .h5 is absent data too (as an absent list is), not a mistake.
    override var dataIsAbsent: Bool { super.dataIsAbsent || files.contains { !FileManager.default.fileExists(atPath: $0) } }
    override var graphDetails: [String] { ["batch \(batchSize)"] }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    /// HDF5 files alone say what shape their datasets have, so an absent source cannot be stood in for.
    override func syntheticTopShapes() throws -> [[Int]]? {
        guard !FileManager.default.fileExists(atPath: settings.source) else { return nil }
        throw error("its source \(settings.source) is absent, and HDF5 files alone say what shape their datasets have; make the data available")
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        rng = context.spawnRNG()
        files = try Self.readList(settings.source, node: settings.node)
        filePermutation = Array(0..<files.count)
        if shuffle { rng.shuffle(&filePermutation) }
        currentFile = 0
        try load(filePermutation[0])
        currentRow = 0
        for (i, t) in top.enumerated() {
            try t.reshape([batchSize] + exampleShapes[i])
        }
    }

    static func readList(_ source: String, node: ConfigNode) throws -> [String] {
        guard let text = try? String(contentsOfFile: source, encoding: .utf8) else {
            throw node.error("cannot read the HDF5 source list \(source): no such file (paths are relative to \(FileManager.default.currentDirectoryPath))", field: "source")
        }
        let files = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !files.isEmpty else { throw node.error("the HDF5 source list \(source) names no files", field: "source") }
        return files
    }

    /// Opens one file and checks that every top's dataset is there and that they agree on the
    /// number of rows (and with earlier files on the example shape).
    private func load(_ index: Int) throws {
        guard index != loadedFile else { return }
        let path = files[index]
        let opened: HDF5File
        do { opened = try HDF5File.open(path) } catch let e as any CortadoFailure {
            throw error("\(e.description) (listed in the layer's source)")
        }
        var opens: [HDF5Rows] = []
        for (i, name) in param.top.enumerated() {
            guard opened.exists(name) else {
                throw self.error("\(path) has no dataset named \"\(name)\"; HDF5Data reads one dataset per top, named like the top")
            }
            let rowsOf: HDF5Rows
            do { rowsOf = try opened.rows(name) } catch let e as any CortadoFailure { throw self.error(e.description) }
            let shape = rowsOf.shape
            guard !shape.isEmpty, shape[0] > 0 else { throw error("dataset \"\(name)\" in \(path) is empty") }
            if i == 0 { rows = shape[0] } else if shape[0] != rows {
                throw error("datasets in \(path) disagree on the number of examples (\(param.top[0]): \(rows), \(name): \(shape[0]))")
            }
            if loadedFile >= 0, Array(shape.dropFirst()) != exampleShapes[i] {
                throw error("dataset \"\(name)\" in \(path) has example shape \(Array(shape.dropFirst())), but earlier files had \(exampleShapes[i])")
            }
            opens.append(rowsOf)
        }
        datasets = opens
        exampleShapes = opens.map { Array($0.shape.dropFirst()) }
        loadedFile = index
        dataPermutation = Array(0..<rows)
        if shuffle { rng.shuffle(&dataPermutation) }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        try shard.next(read: { try read(into: top) }, skip: { for _ in 0..<batchSize { try next() } })
    }

    /// Reads the next batch_size rows into the tops.
    private func read(into top: [Blob]) throws {
        var i = 0
        while i < batchSize {
            // A run of rows that follow one another in the file: one read per top.
            let first = dataPermutation[currentRow]
            var run = 1
            while i + run < batchSize, currentRow + run < rows, dataPermutation[currentRow + run] == first + run { run += 1 }
            for (j, t) in top.enumerated() {
                let dim = t.count / batchSize
                do { try datasets[j].read(start: first, count: run, into: t.data + i * dim) } catch let e as any CortadoFailure {
                    throw error(e.description)
                }
            }
            i += run
            for _ in 0..<run { try next() }
        }
    }

    /// Advances one row, moving to the next file (and reshuffling) at the end of one.
    private func next() throws {
        currentRow += 1
        guard currentRow == rows else { return }
        currentRow = 0
        if files.count > 1 {
            currentFile += 1
            if currentFile == files.count {
                currentFile = 0
                if shuffle { rng.shuffle(&filePermutation) }
            }
            try load(filePermutation[currentFile])
        } else if shuffle {
            rng.shuffle(&dataPermutation)
        }
    }

    // State: [currentFile, currentRow, rng×4, filePermutation…, dataPermutation…]
    override func saveState() -> [Int64] {
        [Int64(currentFile), Int64(currentRow)] + rng.words.map { Int64(bitPattern: $0) }
            + filePermutation.map(Int64.init) + dataPermutation.map(Int64.init)
    }

    override func restoreState(_ state: [Int64]) throws {
        guard state.count >= 6 + files.count else { throw error("saved data position does not fit this layer's file list") }
        let savedFiles = state[6..<(6 + files.count)].map { Int($0) }
        guard Set(savedFiles) == Set(0..<files.count) else { throw error("saved file order does not fit this layer's file list") }
        filePermutation = savedFiles
        currentFile = Int(state[0])
        guard currentFile >= 0, currentFile < files.count else { throw error("saved data position is out of range") }
        try load(filePermutation[currentFile])
        let rowsSaved = state[(6 + files.count)...].map { Int($0) }
        guard rowsSaved.count == rows, Int(state[1]) < rows else {
            throw error("saved data position does not fit \(files[filePermutation[currentFile]]) (\(rows) rows)")
        }
        dataPermutation = rowsSaved
        currentRow = Int(state[1])
        rng.words = state[2..<6].map { UInt64(bitPattern: $0) }
    }
}
