import CortadoBase
import CHDF5
import Foundation

/// A thin, checked wrapper over the HDF5 C API: every failure becomes a `FileError`
/// that names the file and the dataset, never a crash.
package final class HDF5File {
    package let path: String
    let id: hid_t

    private static let silenced: Void = {
        H5Eset_auto2(chdf5_e_default(), nil, nil)
    }()

    private init(path: String, id: hid_t) {
        self.path = path
        self.id = id
    }

    deinit { H5Fclose(id) }

    package static func isHDF5(_ path: String) -> Bool {
        _ = silenced
        return H5Fis_hdf5(path) > 0
    }

    package static func open(_ path: String) throws -> HDF5File {
        _ = silenced
        guard FileManager.default.fileExists(atPath: path) else {
            throw FileError("cannot open \(path): no such file")
        }
        guard H5Fis_hdf5(path) > 0 else {
            throw FileError("\(path) is not an HDF5 file (or it is truncated or corrupt)")
        }
        let id = H5Fopen(path, chdf5_f_acc_rdonly(), chdf5_p_default())
        guard id >= 0 else {
            let hint = isOnNetworkFileSystem(path) ? " (on NFS and other network file systems HDF5's file locking can fail: try HDF5_USE_FILE_LOCKING=FALSE)" : ""
            throw FileError("cannot open \(path) as HDF5: the file is damaged or unreadable\(hint)")
        }
        return HDF5File(path: path, id: id)
    }

    /// NFS, SMB/CIFS, AFS, Ceph, Lustre, GPFS: where HDF5's file locking is known to fail.
    static func isOnNetworkFileSystem(_ path: String) -> Bool {
        let network: Set<Int> = [0x6969, 0xFF534D42, 0xFE534D42, 0x517B, 0x5346414F, 0x00C36400, 0x0BD00BD0, 0x47504653]
        return network.contains(Int(chdf5_fs_type(path)))
    }

    package static func create(_ path: String) throws -> HDF5File {
        _ = silenced
        let id = H5Fcreate(path, chdf5_f_acc_trunc(), chdf5_p_default(), chdf5_p_default())
        guard id >= 0 else { throw FileError("cannot create \(path): check that the folder exists and is writable") }
        return HDF5File(path: path, id: id)
    }

    /// A file built in memory (HDF5's core driver, nothing touches the disk); `image()` gives
    /// its bytes for an atomic write. A full disk then fails in Cortado's own checked write,
    /// never inside HDF5 (whose exit handler crashes on a file it failed to flush).
    static func createInMemory(name: String) throws -> HDF5File {
        _ = silenced
        let fapl = H5Pcreate(chdf5_p_file_access())
        defer { H5Pclose(fapl) }
        guard H5Pset_fapl_core(fapl, 1 << 20, false) >= 0 else {
            throw FileError("cannot set up an in-memory HDF5 file for \(name)")
        }
        let id = H5Fcreate(name, chdf5_f_acc_trunc(), chdf5_p_default(), fapl)
        guard id >= 0 else { throw FileError("cannot create an in-memory HDF5 file for \(name)") }
        return HDF5File(path: name, id: id)
    }

    /// The bytes of a file made by `createInMemory`.
    func image() throws -> [UInt8] {
        try flush()
        let size = H5Fget_file_image(id, nil, 0)
        guard size > 0 else { throw FileError("cannot take the HDF5 image of \(path)") }
        var bytes = [UInt8](repeating: 0, count: size)
        let got = bytes.withUnsafeMutableBytes { H5Fget_file_image(id, $0.baseAddress, size) }
        guard got == size else { throw FileError("cannot take the HDF5 image of \(path)") }
        return bytes
    }

    /// Flushes everything to disk (before the rename that makes a snapshot visible).
    package func flush() throws {
        guard H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0 else { throw FileError("cannot flush \(path)") }
    }

    package func exists(_ name: String) -> Bool {
        // Check each prefix: H5Lexists fails on a path whose parent is missing.
        var prefix = ""
        for part in name.split(separator: "/") {
            prefix += prefix.isEmpty ? String(part) : "/" + part
            guard H5Lexists(id, prefix, chdf5_p_default()) > 0 else { return false }
        }
        return true
    }

    /// Names of the links in a group, in the file's native (creation or name) order.
    package func children(_ group: String) throws -> [String] {
        let g = H5Gopen2(id, group, chdf5_p_default())
        guard g >= 0 else { throw FileError("\(path) has no group \"\(group)\"") }
        defer { H5Gclose(g) }
        var info = H5G_info_t()
        guard H5Gget_info(g, &info) >= 0 else { throw FileError("cannot list group \"\(group)\" in \(path)") }
        var names: [String] = []
        for i in 0..<info.nlinks {
            let len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, chdf5_p_default())
            guard len >= 0 else { throw FileError("cannot read a link name in \"\(group)\" of \(path)") }
            var buf = [CChar](repeating: 0, count: Int(len) + 1)
            H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, Int(len) + 1, chdf5_p_default())
            names.append(buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        return names
    }

    package func isGroup(_ name: String) -> Bool {
        var info = H5O_info_t()
        guard H5Oget_info_by_name2(id, name, &info, UInt32(H5O_INFO_BASIC), chdf5_p_default()) >= 0 else { return false }
        return info.type == H5O_TYPE_GROUP
    }

    // MARK: reading

    package func shape(_ name: String) throws -> [Int] {
        let ds = try openDataset(name)
        defer { H5Dclose(ds) }
        return try shape(of: ds, name)
    }

    private func openDataset(_ name: String) throws -> hid_t {
        guard exists(name) else { throw FileError("\(path) has no dataset \"\(name)\"") }
        let ds = H5Dopen2(id, name, chdf5_p_default())
        guard ds >= 0 else { throw FileError("cannot open dataset \"\(name)\" in \(path)") }
        return ds
    }

    private func shape(of ds: hid_t, _ name: String) throws -> [Int] {
        let space = H5Dget_space(ds)
        defer { H5Sclose(space) }
        let nd = H5Sget_simple_extent_ndims(space)
        guard nd >= 0, nd <= 32 else { throw FileError("cannot read the shape of \"\(name)\" in \(path)") }
        var dims = [hsize_t](repeating: 0, count: Int(nd))
        H5Sget_simple_extent_dims(space, &dims, nil)
        let shape = dims.map { Int(truncatingIfNeeded: $0) }
        guard let count = checkedCount(shape), count <= Int(Int32.max) * 4 else {
            throw FileError("dataset \"\(name)\" in \(path) declares an impossible shape \(dims); the file is damaged")
        }
        _ = count
        return shape
    }

    /// Reads a numeric dataset as Float (ints and doubles are converted by HDF5).
    package func readFloats(_ name: String) throws -> (shape: [Int], values: [Float]) {
        let ds = try openDataset(name)
        defer { H5Dclose(ds) }
        try requireNumeric(ds, name)
        let shape = try shape(of: ds, name)
        var values = [Float](repeating: 0, count: shape.reduce(1, *))
        let status = values.withUnsafeMutableBufferPointer {
            H5Dread(ds, chdf5_native_float(), H5S_ALL, H5S_ALL, chdf5_p_default(), $0.baseAddress)
        }
        guard status >= 0 else { throw FileError("cannot read dataset \"\(name)\" from \(path): the file may be truncated") }
        return (shape, values)
    }

    /// Reads a float dataset straight into memory the caller owns (no copy).
    package func readFloats(_ name: String, into buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        let ds = try openDataset(name)
        defer { H5Dclose(ds) }
        try requireNumeric(ds, name)
        let n = try shape(of: ds, name).reduce(1, *)
        guard n == count else { throw FileError("dataset \"\(name)\" in \(path) has \(n) values, expected \(count)") }
        guard H5Dread(ds, chdf5_native_float(), H5S_ALL, H5S_ALL, chdf5_p_default(), buffer) >= 0 else {
            throw FileError("cannot read dataset \"\(name)\" from \(path): the file may be truncated")
        }
    }

    /// A numeric dataset kept open for reading rows (HDF5Data's batches).
    package func rows(_ name: String) throws -> HDF5Rows {
        let ds = try openDataset(name)
        do {
            try requireNumeric(ds, name)
            return HDF5Rows(file: self, name: name, id: ds, shape: try shape(of: ds, name))
        } catch {
            H5Dclose(ds)
            throw error
        }
    }

    package func readInt64s(_ name: String) throws -> [Int64] {
        let ds = try openDataset(name)
        defer { H5Dclose(ds) }
        try requireNumeric(ds, name)
        var values = [Int64](repeating: 0, count: try shape(of: ds, name).reduce(1, *))
        let status = values.withUnsafeMutableBufferPointer {
            H5Dread(ds, chdf5_native_int64(), H5S_ALL, H5S_ALL, chdf5_p_default(), $0.baseAddress)
        }
        guard status >= 0 else { throw FileError("cannot read dataset \"\(name)\" from \(path)") }
        return values
    }

    package func readInt(_ name: String) throws -> Int {
        let v = try readInt64s(name)
        guard v.count == 1 else { throw FileError("dataset \"\(name)\" in \(path) should hold one integer") }
        return Int(v[0])
    }

    package func readString(_ name: String) throws -> String {
        let ds = try openDataset(name)
        defer { H5Dclose(ds) }
        let ftype = H5Dget_type(ds)
        defer { H5Tclose(ftype) }
        guard H5Tget_class(ftype) == H5T_STRING else { throw FileError("dataset \"\(name)\" in \(path) is not a string") }
        let size = H5Tget_size(ftype)
        let mem = H5Tcopy(chdf5_c_s1())
        defer { H5Tclose(mem) }
        H5Tset_size(mem, size + 1)
        var buf = [CChar](repeating: 0, count: size + 1)
        guard H5Dread(ds, mem, H5S_ALL, H5S_ALL, chdf5_p_default(), &buf) >= 0 else {
            throw FileError("cannot read string \"\(name)\" from \(path)")
        }
        return buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    private func requireNumeric(_ ds: hid_t, _ name: String) throws {
        let t = H5Dget_type(ds)
        defer { H5Tclose(t) }
        let c = H5Tget_class(t)
        guard c == H5T_FLOAT || c == H5T_INTEGER else {
            throw FileError("dataset \"\(name)\" in \(path) is not numeric")
        }
    }

    // MARK: writing

    package func createGroup(_ name: String) throws {
        guard !exists(name) else { return }
        let lcpl = H5Pcreate(chdf5_p_link_create())
        defer { H5Pclose(lcpl) }
        H5Pset_create_intermediate_group(lcpl, 1)
        let g = H5Gcreate2(id, name, lcpl, chdf5_p_default(), chdf5_p_default())
        guard g >= 0 else { throw FileError("cannot create group \"\(name)\" in \(path)") }
        H5Gclose(g)
    }

    package func write(_ name: String, shape: [Int], floats: UnsafePointer<Float>) throws {
        try write(name, shape: shape, type: chdf5_native_float(), data: UnsafeRawPointer(floats))
    }

    package func write(_ name: String, floats: [Float], shape: [Int]? = nil) throws {
        try floats.withUnsafeBufferPointer { try write(name, shape: shape ?? [floats.count], type: chdf5_native_float(), data: UnsafeRawPointer($0.baseAddress ?? UnsafePointer(bitPattern: 8)!)) }
    }

    package func write(_ name: String, int64s: [Int64]) throws {
        try int64s.withUnsafeBufferPointer { try write(name, shape: [int64s.count], type: chdf5_native_int64(), data: UnsafeRawPointer($0.baseAddress ?? UnsafePointer(bitPattern: 8)!)) }
    }

    /// A scalar int dataset, as Caffe's hdf5_save_int writes `iter`.
    package func write(_ name: String, int: Int) throws {
        let v = Int32(truncatingIfNeeded: int)
        try withUnsafePointer(to: v) { try write(name, shape: [], type: chdf5_native_int(), data: UnsafeRawPointer($0)) }
    }

    /// A scalar fixed-length string dataset, as H5LTmake_dataset_string writes `learned_net`.
    package func write(_ name: String, string: String) throws {
        let t = H5Tcopy(chdf5_c_s1())
        defer { H5Tclose(t) }
        H5Tset_size(t, string.utf8.count + 1)
        H5Tset_strpad(t, H5T_STR_NULLTERM)
        try string.withCString { try write(name, shape: [], type: t, data: UnsafeRawPointer($0)) }
    }

    private func write(_ name: String, shape: [Int], type: hid_t, data: UnsafeRawPointer) throws {
        if let slash = name.lastIndex(of: "/") { try createGroup(String(name[..<slash])) }
        var dims = shape.map { hsize_t($0) }
        let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), &dims, nil)
        defer { H5Sclose(space) }
        let ds = H5Dcreate2(id, name, type, space, chdf5_p_default(), chdf5_p_default(), chdf5_p_default())
        guard ds >= 0 else { throw FileError("cannot create dataset \"\(name)\" in \(path)") }
        defer { H5Dclose(ds) }
        let count = shape.reduce(1, *)
        if count > 0 {
            guard H5Dwrite(ds, type, H5S_ALL, H5S_ALL, chdf5_p_default(), data) >= 0 else {
                throw FileError("cannot write dataset \"\(name)\" to \(path): is the disk full?")
            }
        }
    }
}
