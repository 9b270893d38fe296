"""Writes Fashion-MNIST test images as PNG files (for checking `cortado classify`).

usage: python tools/fashion-mnist-pngs.py data/fashion-mnist/test.h5 OUT_FOLDER [COUNT]
Writes OUT_FOLDER/NNNNN.png (8-bit gray, pixel = value * 256, undoing the 1/256 scaling of
get_fashion_mnist.sh) and OUT_FOLDER/labels.txt (`NNNNN.png label` per line). Needs h5py.
"""
import os, struct, sys, zlib
import h5py

def png(width, height, rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

def main():
    source, out = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    os.makedirs(out, exist_ok=True)
    f = h5py.File(source, "r")
    data, label = f["data"], f["label"]
    with open(os.path.join(out, "labels.txt"), "w") as labels:
        for i in range(min(count, data.shape[0])):
            image = data[i].reshape(data.shape[-2], data.shape[-1])
            rows = [[min(255, int(round(v * 256))) for v in row] for row in image]
            name = f"{i:05d}.png"
            open(os.path.join(out, name), "wb").write(png(image.shape[1], image.shape[0], rows))
            labels.write(f"{name} {int(label[i])}\n")

if __name__ == "__main__":
    main()
