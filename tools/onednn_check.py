"""Compares the parameter gradients of `cortado __gradients` files: oneDNN convolutions
against im2col ones, with the net's own sensitivity beside them (im2col again, on an input
moved by 2 ulp). usage: python tools/onednn_check.py NAME:FIRST=ONEDNN.h5,IM2COL.h5,NUDGED.h5 ...

The measure is issue 20's: the larger difference of a blob's L2 norm or of a seeded random
projection, relative to its norm. (The L2 distance itself is dominated by ReLU and max-pool
elements within rounding of their kink, which flip between any two summation orders.)
Prints a Markdown table; exits 1 when the first convolution's weight gradient differs by more
than ten times the net's 2-ulp sensitivity, with a floor of 1e-4."""
import sys
import h5py
import numpy as np

def blobs(path):
    out = {}
    def visit(name, item):
        if isinstance(item, h5py.Dataset):
            out[name] = np.asarray(item, dtype=np.float64)
    h5py.File(path, "r").visititems(visit)
    return out

def measure(a, b):
    norm = np.linalg.norm(b)
    r = np.random.default_rng(5).standard_normal(b.size)
    r /= np.linalg.norm(r)
    return max(abs(np.linalg.norm(a) - norm), abs(r @ a.ravel() - r @ b.ravel())) / norm

def main():
    print("| net | first convolution | its weight gradient: oneDNN vs im2col | 2-ulp sensitivity | worst blob: oneDNN vs im2col | its 2-ulp sensitivity |")
    print("|---|---|---|---|---|---|")
    failed = False
    for item in sys.argv[1:]:
        label, paths = item.split("=", 1)
        name, first = label.split(":", 1)
        fast, plain, nudged = (blobs(p) for p in paths.split(","))
        rows = [(measure(fast[k], b), measure(nudged[k], b), k) for k, b in plain.items() if np.linalg.norm(b) > 0]
        worst = max(rows)
        head = next(r for r in rows if r[2] == f"{first}/0")
        failed |= head[0] > max(1e-4, 10 * head[1])
        print(f"| {name} | {first} | {head[0]:.1e} | {head[1]:.1e} | {worst[2]}: {worst[0]:.1e} | {worst[1]:.1e} |")
    sys.exit(1 if failed else 0)

if __name__ == "__main__":
    main()
