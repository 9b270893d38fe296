import ArgumentParser
import Cortado

/// `cortado __read-hdf5 weights|state IN OUT`: the child side of HDF5Isolation (not for users).
struct ReadHDF5Command: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__read-hdf5", shouldDisplay: false)
    @Argument var kind: String
    @Argument var input: String
    @Argument var output: String

    package func run() throws {
        try reportingErrors {
            guard let k = HDF5Isolation.Kind(rawValue: kind) else { throw UsageError("kind must be weights or state") }
            try HDF5Isolation.childMain(kind: k, input: input, output: output)
        }
    }
}
