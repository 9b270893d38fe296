import CortadoBase
import Foundation

/// CIFAR-10's binary batches (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`): records
/// of 1 label byte and 3×32×32 pixel bytes (channel planes R, G, B), converted into LMDBs of
/// Datum records exactly as Caffe's convert_cifar_data does (pixels kept in file order).
package enum CIFAR {
    static let recordSize = 1 + 3 * 32 * 32

    /// Reads one batch file's records as Datums.
    package static func read(_ path: String) throws -> [Datum] {
        let data = try FileBytes.read(path, what: "CIFAR-10 batch")
        guard data.count > 0, data.count % recordSize == 0 else {
            throw DataError("\(path) is \(data.count) bytes, not a whole number of CIFAR-10 records (\(recordSize) bytes each): is it truncated?")
        }
        let bytes = [UInt8](data)
        return stride(from: 0, to: bytes.count, by: recordSize).map { o in
            Datum(channels: 3, height: 32, width: 32, data: Array(bytes[(o + 1)..<(o + recordSize)]), label: Int(bytes[o]))
        }
    }

    /// Writes `<out>/cifar10_train_lmdb` (batches 1–5) and `<out>/cifar10_test_lmdb`.
    package static func convert(batches dir: String, to out: String) throws -> (train: Int, test: Int) {
        let train = try LMDB.create("\(out)/cifar10_train_lmdb")
        var n = 0
        for b in 1...5 {
            let records = try read("\(dir)/data_batch_\(b).bin")
            try train.put(records.map { d in defer { n += 1 }; return (String(format: "%05d", n), d.encode()) })
        }
        let test = try LMDB.create("\(out)/cifar10_test_lmdb")
        let records = try read("\(dir)/test_batch.bin")
        try test.put(records.enumerated().map { (String(format: "%05d", $0.offset), $0.element.encode()) })
        return (n, records.count)
    }
}
