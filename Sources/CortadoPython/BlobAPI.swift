import CortadoBase
import Foundation

@_cdecl("cortado_blob_new")
public func cortado_blob_new(_ dims: UnsafePointer<Int64>?, _ n: Int32) -> UnsafeMutableRawPointer? {
    made { try Blob(checked: shape(dims, n)) }
}

/// Writes up to `max` dimensions into `dims`; returns the number of axes.
@_cdecl("cortado_blob_shape")
public func cortado_blob_shape(_ b: UnsafeMutableRawPointer, _ dims: UnsafeMutablePointer<Int64>, _ max: Int32) -> Int32 {
    let blob: Blob = object(b)
    for (i, d) in blob.shape.prefix(Int(max)).enumerated() { dims[i] = Int64(d) }
    return Int32(blob.shape.count)
}

/// The blob's data (which 0) or diff (which 1), and in `owner` a handle on the memory that
/// keeps it valid for as long as the caller holds it.
@_cdecl("cortado_blob_memory")
public func cortado_blob_memory(_ b: UnsafeMutableRawPointer, _ which: Int32, _ owner: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> UnsafeMutableRawPointer {
    let blob: Blob = object(b)
    owner.pointee = handle(which == 0 ? blob.dataOwner : blob.diffOwner)
    return UnsafeMutableRawPointer(which == 0 ? blob.data : blob.diff)
}

@_cdecl("cortado_blob_reshape")
public func cortado_blob_reshape(_ b: UnsafeMutableRawPointer, _ dims: UnsafePointer<Int64>?, _ n: Int32) -> Int32 {
    status { try object(b, as: Blob.self).reshape(shape(dims, n)) }
}
