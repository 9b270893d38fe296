import Foundation

/// Memory that lives only inside one call of a layer, one block per thread part: oneDNN's
/// arguments reordered to its layouts, and its scratchpads. The layers of a net run one after
/// another, so the net gives them all the same blocks; when GoogLeNet's 57 convolutions each
/// kept their own, `time` peaked 650 MB higher (bench/RESULTS.md).
package final class CallScratch {
    private var blocks: [Block] = []

    package init() {}

    /// Makes block p at least `bytes[p]` long. Called while reshaping, on one thread, so that
    /// the parts running in parallel only read; an allocation that fails is an error here,
    /// not a crash inside a call.
    package func reserve(_ bytes: [Int]) throws {
        while blocks.count < bytes.count { blocks.append(Block()) }
        for (block, n) in zip(blocks, bytes) { try block.reserve(n) }
    }

    /// Block `part`, as long as the largest reservation for it; nil when none asked for bytes.
    package func block(_ part: Int) -> UnsafeMutableRawPointer? {
        part < blocks.count ? blocks[part].base : nil
    }

    private final class Block {
        package private(set) var base: UnsafeMutableRawPointer?
        private var capacity = 0

        deinit { free(base) }

        /// Grows without keeping the old bytes: nothing lives in a block between calls.
        package func reserve(_ bytes: Int) throws {
            guard bytes > capacity else { return }
            let rounded = (bytes + 63) & ~63
            guard let p = aligned_alloc(64, rounded) else {
                throw ResourceError("out of memory: \(formatBytes(Double(rounded))) of scratch for a convolution")
            }
            free(base)
            base = p
            capacity = rounded
        }
    }
}
