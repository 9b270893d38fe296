import CortadoBase
import CHDF5
import Foundation

/// An open dataset read row by row along its first axis through hyperslabs, so a reader holds
/// one batch in memory, not the dataset.
package final class HDF5Rows {
    package let name: String
    package let shape: [Int]
    private let file: HDF5File   // kept open while its dataset is
    private let id: hid_t

    init(file: HDF5File, name: String, id: hid_t, shape: [Int]) {
        self.file = file
        self.name = name
        self.id = id
        self.shape = shape
    }

    deinit { H5Dclose(id) }

    /// Reads rows start..<start+count as Float into `buffer`.
    package func read(start: Int, count: Int, into buffer: UnsafeMutablePointer<Float>) throws {
        var dims = shape.map { hsize_t($0) }
        guard !dims.isEmpty, start >= 0, count > 0, start + count <= shape[0] else {
            throw FileError("rows \(start)..<\(start + count) are outside dataset \"\(name)\" in \(file.path)")
        }
        let fileSpace = H5Dget_space(id)
        defer { H5Sclose(fileSpace) }
        var offset = [hsize_t](repeating: 0, count: dims.count)
        offset[0] = hsize_t(start)
        dims[0] = hsize_t(count)
        guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &offset, nil, &dims, nil) >= 0 else {
            throw FileError("cannot select rows of dataset \"\(name)\" in \(file.path)")
        }
        let memSpace = H5Screate_simple(Int32(dims.count), &dims, nil)
        defer { H5Sclose(memSpace) }
        guard H5Dread(id, chdf5_native_float(), memSpace, fileSpace, chdf5_p_default(), buffer) >= 0 else {
            throw FileError("cannot read rows \(start)..<\(start + count) of dataset \"\(name)\" from \(file.path): the file may be truncated")
        }
    }
}
