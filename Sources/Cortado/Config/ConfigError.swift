import Foundation

/// A mistake in a user's file or flags, with everything a person needs to fix it:
/// where it is (file:line:col), where inside the config (`layer "conv1" › convolution_param`),
/// what was wrong, and for a misspelt name the closest valid one.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public struct Problem: Sendable {
        public var location: TextLocation?
        public var path: String
        public var message: String
    }

    public var problems: [Problem]

    public init(location: TextLocation?, path: String, message: String) {
        problems = [Problem(location: location, path: path, message: message)]
    }

    public init(problems: [Problem]) {
        self.problems = problems
    }

    public var description: String {
        problems.map { p in
            var s = p.location.map { "\($0): " } ?? ""
            if !p.path.isEmpty { s += "in \(p.path): " }
            return s + p.message
        }.joined(separator: "\n")
    }
}

/// A problem found while building or running a net or solver that is not tied to one place in a file.
public struct CortadoError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The closest name to `word` among `candidates`, if it is close enough to be a likely typo.
public func nearestName(to word: String, in candidates: [String]) -> String? {
    var best: (String, Int)? = nil
    for c in candidates {
        let d = editDistance(word.lowercased(), c.lowercased())
        if best == nil || d < best!.1 { best = (c, d) }
    }
    guard let (name, distance) = best else { return nil }
    let allowed = max(2, min(word.count, name.count) / 3)
    if distance <= allowed { return name }
    // A name that contains the word or is contained by it ("conv_param" vs "convolution_param").
    if name.lowercased().hasPrefix(word.lowercased().prefix(4)) && distance <= word.count / 2 + 3 { return name }
    return nil
}

func didYouMean(_ word: String, _ candidates: [String]) -> String {
    nearestName(to: word, in: candidates).map { "; did you mean \"\($0)\"?" } ?? ""
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
