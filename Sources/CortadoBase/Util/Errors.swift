import Foundation

/// Every error Cortado throws. Its `message` is one sentence a person can act on (what went
/// wrong, where, and what to do), as the command line prints it; its type says which part of
/// the work failed, and carries what a program may act on (a path and errno, a layer, a rank).
public protocol CortadoFailure: Error, CustomStringConvertible, Sendable {
    var message: String { get }
}

extension CortadoFailure {
    public var description: String { message }
}

/// A file or folder that could not be opened, read, written, synced or trusted (a damaged or
/// truncated snapshot, a full disk). `errno` is the system's reason, when the system refused.
public struct FileError: CortadoFailure {
    public var message: String
    public var path: String?
    public var errno: Int32?
    public init(_ message: String, path: String? = nil, errno: Int32? = nil) {
        (self.message, self.path, self.errno) = (message, path, errno)
    }
}

/// The contents of a dataset, image, record or weights file that do not fit what reads them.
public struct DataError: CortadoFailure {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// Memory the machine cannot give: a blob, a convolution's scratch, a net's activations.
public struct ResourceError: CortadoFailure {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// A net that cannot be built, shared or given weights as asked; `layer` names the layer.
public struct NetError: CortadoFailure {
    public var message: String
    public var layer: String?
    public init(_ message: String, layer: String? = nil) { (self.message, self.layer) = (message, layer) }
}

/// Training that cannot go on: a diverged loss, a solver state that does not fit the solver.
public struct TrainingError: CortadoFailure {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// A data-parallel run whose ranks cannot agree or reach each other; `rank` names the one at fault.
public struct DistributedError: CortadoFailure {
    public var message: String
    public var rank: Int?
    public init(_ message: String, rank: Int? = nil) { (self.message, self.rank) = (message, rank) }
}

/// A net, or a layer of it (`layer`), that has no ONNX form.
public struct ExportError: CortadoFailure {
    public var message: String
    public var layer: String?
    public init(_ message: String, layer: String? = nil) { (self.message, self.layer) = (message, layer) }
}

/// Flags and arguments of the command line tool and the dashboard that do not make sense together.
public struct UsageError: CortadoFailure {
    public var message: String
    public init(_ message: String) { self.message = message }
}
