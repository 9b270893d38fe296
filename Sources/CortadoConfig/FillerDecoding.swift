import CortadoBase
import CortadoIO
import Foundation

/// A filler_param message decoded into the Tensor layer's FillerParameter (which knows
/// nothing of config files).
extension FillerParameter {
    public init(_ node: ConfigNode?) throws {
        self.init()
        guard let node else { return }
        let name = node.string("type") ?? FillerType.constant.rawValue
        value = node.float("value") ?? 0
        min = node.float("min") ?? 0
        max = node.float("max") ?? 1
        mean = node.float("mean") ?? 0
        std = node.float("std") ?? 1
        sparse = node.int("sparse") ?? -1
        varianceNorm = node.enumValue("variance_norm").flatMap(VarianceNorm.init(rawValue:)) ?? .fanIn
        guard let known = FillerType(rawValue: name) else {
            throw node.error("unknown filler type \"\(name)\"; known fillers: \(Self.types.joined(separator: ", "))\(didYouMean(name, Self.types))", field: "type")
        }
        type = known
        if sparse >= 0 && type != .gaussian {
            throw node.error("sparse is only allowed with the gaussian filler", field: "sparse")
        }
        if type == .uniform && self.min > self.max {
            throw node.error("uniform filler needs min <= max", field: "min")
        }
    }
}
