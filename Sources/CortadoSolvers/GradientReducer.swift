import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet

/// What the solver needs of a data-parallel run: each update's gradients summed over the
/// processes, layer by layer as backward finishes them (`begin`, then `finish` with the loss
/// and any stop or snapshot request, summed too). Distributed's GradientSync is the one in
/// use; the protocol lives here so that Solvers does not depend on MPI.
package protocol GradientReducer: AnyObject {
    /// This process's index among `size`.
    var rank: Int { get }
    var size: Int { get }
    func begin(overlapping: Bool)
    func finish(loss: Float, action: Int) throws -> (loss: Float, action: Int)
}
