import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import Foundation

/// Caffe's learning-rate policies (`lr_policy`), as a value: the rate at a given iteration.
/// `iter` counts completed updates. Formulas follow sgd_solver.cpp's GetLearningRate.
package enum LRPolicy: Sendable, Equatable {
    case fixed(base: Float)
    case step(base: Float, gamma: Float, stepsize: Int)
    case exp(base: Float, gamma: Float)
    case inv(base: Float, gamma: Float, power: Float)
    case multistep(base: Float, gamma: Float, stepvalues: [Int])
    case poly(base: Float, power: Float, maxIter: Int)
    case sigmoid(base: Float, gamma: Float, stepsize: Int)

    package static let names = ["fixed", "step", "exp", "inv", "multistep", "poly", "sigmoid"]

    package init(_ node: ConfigNode) throws {
        let base = node.float("base_lr") ?? 0
        let gamma = node.float("gamma") ?? 0
        let power = node.float("power") ?? 0
        let stepsize = node.int("stepsize") ?? 0
        guard let name = node.string("lr_policy") else {
            throw node.error("the solver has no lr_policy; add one of \(Self.names.joined(separator: ", ")) (e.g. lr_policy: \"fixed\")")
        }
        switch name {
        case "fixed": self = .fixed(base: base)
        case "step":
            guard stepsize > 0 else { throw node.error("lr_policy \"step\" needs stepsize > 0", field: "stepsize") }
            self = .step(base: base, gamma: gamma, stepsize: stepsize)
        case "exp": self = .exp(base: base, gamma: gamma)
        case "inv": self = .inv(base: base, gamma: gamma, power: power)
        case "multistep":
            let values = node.ints("stepvalue")
            guard zip(values, values.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw node.error("stepvalue entries must increase", field: "stepvalue")
            }
            self = .multistep(base: base, gamma: gamma, stepvalues: values)
        case "poly": self = .poly(base: base, power: power, maxIter: node.int("max_iter") ?? 0)
        case "sigmoid":
            self = .sigmoid(base: base, gamma: gamma, stepsize: stepsize)
        default:
            throw node.error("unknown lr_policy \"\(name)\"; known policies: \(Self.names.joined(separator: ", "))\(didYouMean(name, Self.names))", field: "lr_policy")
        }
    }

    package var name: String {
        switch self {
        case .fixed: return "fixed"
        case .step: return "step"
        case .exp: return "exp"
        case .inv: return "inv"
        case .multistep: return "multistep"
        case .poly: return "poly"
        case .sigmoid: return "sigmoid"
        }
    }

    /// The rate at `iter`. `currentStep` is multistep's position, which Caffe advances one
    /// stepvalue per iteration at most and saves in the solverstate.
    package func rate(iter: Int, currentStep: inout Int) -> Float {
        switch self {
        case .fixed(let base):
            return base
        case .step(let base, let gamma, let stepsize):
            currentStep = iter / stepsize
            return Float(Double(base) * pow(Double(gamma), Double(currentStep)))  // C++ pow(float, int) is double
        case .exp(let base, let gamma):
            return Float(Double(base) * pow(Double(gamma), Double(iter)))
        case .inv(let base, let gamma, let power):
            return base * powf(1 + gamma * Float(iter), -power)
        case .multistep(let base, let gamma, let stepvalues):
            if currentStep < stepvalues.count && iter >= stepvalues[currentStep] {
                currentStep += 1
            }
            return Float(Double(base) * pow(Double(gamma), Double(currentStep)))  // C++ pow(float, int) is double
        case .poly(let base, let power, let maxIter):
            return base * powf(1 - Float(iter) / Float(max(maxIter, 1)), power)
        case .sigmoid(let base, let gamma, let stepsize):
            return base * (1 / (1 + expf(-gamma * Float(iter - stepsize))))
        }
    }
}
