import CortadoBase
import CortadoIO
import Foundation

/// A mistake in a user's file or flags, with everything a person needs to fix it:
/// where it is (file:line:col), where inside the config (`layer "conv1" › convolution_param`),
/// what was wrong, and for a misspelt name the closest valid one.
public struct ConfigError: CortadoFailure {
    public struct Problem: Sendable {
        public var location: TextLocation?
        public var path: String
        public var message: String

        public init(location: TextLocation?, path: String, message: String) {
            (self.location, self.path, self.message) = (location, path, message)
        }
    }

    public var problems: [Problem]

    public init(location: TextLocation?, path: String, message: String) {
        problems = [Problem(location: location, path: path, message: message)]
    }

    public init(problems: [Problem]) {
        self.problems = problems
    }

    public var message: String {
        problems.map { p in
            var s = p.location.map { "\($0): " } ?? ""
            if !p.path.isEmpty { s += "in \(p.path): " }
            return s + p.message
        }.joined(separator: "\n")
    }
}
