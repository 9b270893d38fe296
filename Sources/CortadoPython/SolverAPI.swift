import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import Foundation

/// A solver from a solver prototxt, as pycaffe's `SGDSolver(file)` (type names the update rule
/// to use whatever the file says) or `get_solver(file)` (type null: the file's `type`). As in
/// Caffe, snapshots are binary protos unless the file sets `snapshot_format`.
@_cdecl("cortado_solver_new")
public func cortado_solver_new(_ path: UnsafePointer<CChar>, _ type: UnsafePointer<CChar>?) -> UnsafeMutableRawPointer? {
    made {
        var param = try SolverParameter.load(file: String(cString: path))
        if let name = string(type) {
            guard let rule = SolverType(rawValue: name) else { throw UsageError("unknown solver type \"\(name)\"") }
            param.type = rule
        }
        if param.node.enumValue("snapshot_format") == nil { param.snapshotFormat = .binaryProto }
        if param.randomSeed < 0, let seed = Seeds.fixedSeed() { param.randomSeed = Int(seed) }
        let solver = try Solver(param, verbose: false)
        for w in param.weights { try Snapshot.loadWeights(solver.net, from: w) }
        return solver
    }
}

@_cdecl("cortado_solver_net")
public func cortado_solver_net(_ s: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
    handle(object(s, as: Solver.self).net)
}

@_cdecl("cortado_solver_test_net_count")
public func cortado_solver_test_net_count(_ s: UnsafeMutableRawPointer) -> Int32 {
    Int32(object(s, as: Solver.self).testNets.count)
}

@_cdecl("cortado_solver_test_net")
public func cortado_solver_test_net(_ s: UnsafeMutableRawPointer, _ i: Int32) -> UnsafeMutableRawPointer? {
    made { try element(object(s, as: Solver.self).testNets, i, "test net") }
}

@_cdecl("cortado_solver_iter")
public func cortado_solver_iter(_ s: UnsafeMutableRawPointer) -> Int64 {
    Int64(object(s, as: Solver.self).iter)
}

@_cdecl("cortado_solver_type")
public func cortado_solver_type(_ s: UnsafeMutableRawPointer) -> UnsafeMutablePointer<CChar> {
    cString(object(s, as: Solver.self).param.type.rawValue)
}

@_cdecl("cortado_solver_step")
public func cortado_solver_step(_ s: UnsafeMutableRawPointer, _ iters: Int64) -> Int32 {
    status { try object(s, as: Solver.self).step(Int(iters)) }
}

/// Trains to max_iter, first restoring `resume` (a solverstate) when given.
@_cdecl("cortado_solver_solve")
public func cortado_solver_solve(_ s: UnsafeMutableRawPointer, _ resume: UnsafePointer<CChar>?) -> Int32 {
    status {
        let solver: Solver = object(s)
        if let path = string(resume) { try solver.restore(from: path) }
        try solver.solve()
    }
}

@_cdecl("cortado_solver_snapshot")
public func cortado_solver_snapshot(_ s: UnsafeMutableRawPointer) -> Int32 {
    status { try object(s, as: Solver.self).snapshot() }
}

@_cdecl("cortado_solver_restore")
public func cortado_solver_restore(_ s: UnsafeMutableRawPointer, _ path: UnsafePointer<CChar>) -> Int32 {
    status { try object(s, as: Solver.self).restore(from: String(cString: path)) }
}

/// One update from the diffs the net holds, without a forward or backward pass (pycaffe's
/// `apply_update`); the iteration count does not move, as in Caffe.
@_cdecl("cortado_solver_apply_update")
public func cortado_solver_apply_update(_ s: UnsafeMutableRawPointer) {
    object(s, as: Solver.self).applyUpdate()
}
