import ArgumentParser
import Cortado
import Foundation

struct UpgradeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upgrade",
        abstract: "Print an old Caffe net or solver file in today's syntax.",
        discussion: """
        Nets: V1 `layers { type: CONVOLUTION blobs_lr: 1 weight_decay: 1 }` become `layer { type: "Convolution"
        param { lr_mult: 1 decay_mult: 1 } }`, data-transform fields move to transform_param, and net-level
        `input`/`input_dim` become an Input layer. Solvers: `solver_type: NESTEROV` becomes `type: "Nesterov"`.
        (`train`, `test` and `time` read old files directly too.)
        Example:
          cortado upgrade old_lenet.prototxt > lenet.prototxt
        """
    )

    @Argument(help: "An old net or solver prototxt.") var file: String

    package func run() throws {
        try reportingErrors {
            LayerRegistry.installSchemas()
            let tree = try TextFormatParser.parse(file: file)
            let isSolver = tree.fields.contains { Validator.solverOnly.contains($0.name) }
            _ = try ConfigNode.validated(tree, as: isSolver ? "SolverParameter" : "NetParameter")
            let upgraded = isSolver ? try V1Upgrade.upgradeSolver(tree) : try V1Upgrade.upgradeNet(tree)
            _ = try ConfigNode.validated(upgraded, as: isSolver ? "SolverParameter" : "NetParameter")
            print(printTextFormat(upgraded), terminator: "")
        }
    }
}
