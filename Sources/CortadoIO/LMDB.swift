import CortadoBase
import CLMDB
import Foundation

/// A thin, checked wrapper over LMDB: one environment, its main database, a read cursor that
/// walks records in key order, and batched writes. Errors name the path and LMDB's reason.
package final class LMDB {
    package let path: String
    private var env: OpaquePointer?
    private var dbi: MDB_dbi = 0
    private var readTxn: OpaquePointer?
    private var cursor: OpaquePointer?

    private init(path: String) { self.path = path }

    deinit {
        if let cursor { mdb_cursor_close(cursor) }
        if let readTxn { mdb_txn_abort(readTxn) }
        if let env { mdb_env_close(env) }
    }

    private func check(_ rc: Int32, _ what: String) throws {
        guard rc == 0 else { throw FileError("LMDB \(path): cannot \(what): \(String(cString: mdb_strerror(rc)))", path: path, errno: rc > 0 ? rc : nil) }
    }

    /// Opens an existing database read-only.
    package static func openForReading(_ path: String) throws -> LMDB {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            let maker = path.lowercased().contains("cifar") ? "`bash data/cifar10/get_cifar10.sh` for CIFAR-10" : "`cortado convert-imageset`"
            throw FileError("cannot open LMDB \(path): no such folder (make one with \(maker))", path: path)
        }
        let db = LMDB(path: path)
        try db.check(mdb_env_create(&db.env), "create an environment")
        let flags = UInt32(MDB_RDONLY | MDB_NOTLS | (isDir.boolValue ? 0 : MDB_NOSUBDIR) | MDB_NOLOCK)
        try db.check(mdb_env_open(db.env, path, flags, 0o664), "open it (is it an LMDB database?)")
        try db.checkComplete(file: isDir.boolValue ? (path as NSString).appendingPathComponent("data.mdb") : path)
        try db.check(mdb_txn_begin(db.env, nil, UInt32(MDB_RDONLY), &db.readTxn), "begin a read transaction")
        try db.check(mdb_dbi_open(db.readTxn, nil, 0, &db.dbi), "open the main database")
        try db.check(mdb_cursor_open(db.readTxn, db.dbi, &db.cursor), "open a cursor")
        return db
    }

    /// LMDB reads its pages through a memory map, so a page past the end of a truncated file
    /// is a SIGBUS, not an error: the file must hold every page the database says it uses.
    private func checkComplete(file: String) throws {
        var info = MDB_envinfo(), stat = MDB_stat()
        try check(mdb_env_info(env, &info), "read its size")
        try check(mdb_env_stat(env, &stat), "read its page size")
        let needed = (Int(info.me_last_pgno) + 1) * Int(stat.ms_psize)
        guard let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int else { return }
        if size < needed {
            throw FileError("LMDB \(path) is truncated: \((file as NSString).lastPathComponent) has \(size) bytes, but its pages reach \(needed) (a copy that did not finish?); make it again with `cortado convert-imageset`", path: path)
        }
    }

    /// Creates (or empties) a database folder for writing.
    package static func create(_ path: String, mapSize: Int = 1 << 40) throws -> LMDB {
        let fm = FileManager.default
        if fm.fileExists(atPath: path) {
            throw FileError("\(path) already exists; remove it first (Cortado does not overwrite a database)", path: path)
        }
        do { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw FileError("cannot create the folder \(path): \(error.localizedDescription)", path: path)
        }
        let db = LMDB(path: path)
        try db.check(mdb_env_create(&db.env), "create an environment")
        try db.check(mdb_env_set_mapsize(db.env, mapSize), "set the map size")
        try db.check(mdb_env_open(db.env, path, 0, 0o664), "create it")
        return db
    }

    package var count: Int {
        var stat = MDB_stat()
        guard let readTxn, mdb_stat(readTxn, dbi, &stat) == 0 else { return 0 }
        return Int(stat.ms_entries)
    }

    /// Moves to the first record; returns false when the database is empty.
    package func first() throws -> Bool { try move(MDB_FIRST) }

    /// Moves to the next record; returns false at the end.
    package func next() throws -> Bool { try move(MDB_NEXT) }

    private var key = MDB_val(), value = MDB_val()

    private func move(_ op: MDB_cursor_op) throws -> Bool {
        let rc = mdb_cursor_get(cursor, &key, &value, op)
        if rc == MDB_NOTFOUND { return false }
        try check(rc, "read a record")
        return true
    }

    /// The current record's value; valid until the cursor moves.
    package var currentValue: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size) }

    package var currentKey: String {
        String(decoding: UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size), as: UTF8.self)
    }

    /// Writes records in one transaction.
    package func put(_ records: [(key: String, value: [UInt8])]) throws {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, 0, &txn), "begin a write transaction")
        var dbi: MDB_dbi = 0
        do {
            try check(mdb_dbi_open(txn, nil, 0, &dbi), "open the main database")
            for r in records {
                var k = Array(r.key.utf8), v = r.value
                let rc = k.withUnsafeMutableBytes { kb in
                    v.withUnsafeMutableBytes { vb in
                        var kv = MDB_val(mv_size: kb.count, mv_data: kb.baseAddress)
                        var vv = MDB_val(mv_size: vb.count, mv_data: vb.baseAddress)
                        return mdb_put(txn, dbi, &kv, &vv, 0)
                    }
                }
                try check(rc, "write record \(r.key)")
            }
            try check(mdb_txn_commit(txn), "commit")
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
    }
}
