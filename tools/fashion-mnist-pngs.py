"""Writes Fashion-MNIST test images as PNG files, for `cortado classify` (the README's example).

usage: python3 tools/fashion-mnist-pngs.py OUT_FOLDER [COUNT]
Reads Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist, which
data/fashion-mnist/get_fashion_mnist.sh installs) with the standard library only, and writes
OUT_FOLDER/NNNNN.png (8-bit gray, as in the dataset) for the first COUNT test images (default
1000), and OUT_FOLDER/list.txt (`NNNNN.png label` per line, as convert-imageset and ImageData
read). The class names are in data/fashion-mnist/labels.txt.
"""
import gzip, os, struct, sys, zlib

SOURCE = "/usr/share/datasets/fashion-mnist"

def png(width, height, rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

def idx(name):
    with gzip.open(os.path.join(SOURCE, name), "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]

def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    (n, h, w), pixels = idx("t10k-images-idx3-ubyte.gz")
    _, labels = idx("t10k-labels-idx1-ubyte.gz")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "list.txt"), "w") as listing:
        for i in range(min(count, n)):
            image = pixels[i * h * w:(i + 1) * h * w]
            name = f"{i:05d}.png"
            with open(os.path.join(out, name), "wb") as f:
                f.write(png(w, h, [image[r * w:(r + 1) * w] for r in range(h)]))
            listing.write(f"{name} {labels[i]}\n")
    print(f"wrote {min(count, n)} images and list.txt to {out}")

if __name__ == "__main__":
    main()
