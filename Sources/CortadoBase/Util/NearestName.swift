/// The closest name to `word` among `candidates`, if it is close enough to be a likely typo.
package func nearestName(to word: String, in candidates: [String]) -> String? {
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

package func didYouMean(_ word: String, _ candidates: [String]) -> String {
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
