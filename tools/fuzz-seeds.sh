#!/usr/bin/env bash
# Makes the seed corpora of tools/fuzz.sh in tools/fuzz/corpus/: Caffe's reference prototxts,
# snapshots of a tiny net in both formats, and small hand-made Datum, BlobProto and IDX records.
# Needs a built cortado (.build/debug or .build/release) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
CORTADO=$(ls .build/release/cortado .build/debug/cortado 2>/dev/null | head -1)
C=tools/fuzz/corpus
rm -rf "$C"; mkdir -p "$C"/{prototxt,config,caffemodel,solverstate,binaryproto,hdf5,datum,idx}
for f in $(find Tests/CortadoTests/Fixtures/bvlc models solvers -name '*.prototxt'); do
    name=$(echo "$f" | tr '/' '_')
    cp "$f" "$C/prototxt/$name"
    case "$f" in *solver*) ;; *) cp "$f" "$C/config/$name" ;; esac
done
work=$(mktemp -d)
python3 - "$work" <<'PY'
import struct, sys, random
d = sys.argv[1]
random.seed(1)
with open(f"{d}/d.txt", "w") as f: f.write(f"{d}/d.h5\n")
PY
cat > "$work/net.prototxt" <<NET
name: "tiny"
layer { name: "in" type: "DummyData" top: "data" top: "label" dummy_data_param { shape { dim: 4 dim: 3 } shape { dim: 4 } data_filler { type: "uniform" } data_filler { type: "constant" value: 1 } } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
NET
for fmt in HDF5 BINARYPROTO; do
    echo "net: \"$work/net.prototxt\" base_lr: 0.1 momentum: 0.9 lr_policy: \"fixed\" max_iter: 2 snapshot: 2 snapshot_prefix: \"$work/$fmt\" snapshot_format: $fmt random_seed: 1" > "$work/$fmt.prototxt"
    "$CORTADO" train --solver "$work/$fmt.prototxt" --progress never 2>/dev/null
done
cp "$work/HDF5_iter_2.caffemodel.h5" "$work/HDF5_iter_2.solverstate.h5" "$C/hdf5/"
cp "$work/BINARYPROTO_iter_2.caffemodel" "$C/caffemodel/"
cp "$work/BINARYPROTO_iter_2.solverstate" "$C/solverstate/"
python3 - "$C" <<'PY'
import struct, sys, zlib
c = sys.argv[1]
def varint(n):
    out = b""
    while True:
        b = n & 0x7f; n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n: return out
def field(num, wire, payload):
    tag = varint(num << 3 | wire)
    return tag + (varint(payload) if wire == 0 else varint(len(payload)) + payload)
# Datum: raw bytes, float data, and an encoded 2x2 PNG.
raw = field(1, 0, 1) + field(2, 0, 2) + field(3, 0, 2) + field(4, 2, bytes([1, 2, 3, 4])) + field(5, 0, 3)
floats = field(1, 0, 1) + field(2, 0, 1) + field(3, 0, 2) + field(6, 2, struct.pack("<2f", 0.5, -1)) + field(5, 0, 1)
def png(w, h):
    rows = b"".join(b"\x00" + bytes([x * 60 for x in range(w)]) for _ in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
encoded = field(4, 2, png(2, 2)) + field(5, 0, 7) + field(7, 0, 1)
for name, data in [("raw", raw), ("floats", floats), ("png", encoded)]:
    open(f"{c}/datum/{name}", "wb").write(data)
# BlobProto mean files: the new shape form and the old num/channels/height/width form.
shape = field(7, 2, field(1, 2, b"".join(varint(v) for v in [1, 2, 2])))
values = field(5, 2, struct.pack("<4f", 1, 2, 3, 4))
open(f"{c}/binaryproto/shape", "wb").write(shape + values)
open(f"{c}/binaryproto/legacy", "wb").write(field(1, 0, 1) + field(2, 0, 1) + field(3, 0, 2) + field(4, 0, 2) + values)
# IDX: images (magic 0x803) and labels (0x801).
open(f"{c}/idx/images", "wb").write(struct.pack(">IIII", 0x803, 2, 2, 2) + bytes(range(8)))
open(f"{c}/idx/labels", "wb").write(struct.pack(">II", 0x801, 3) + bytes([0, 1, 2]))
PY
rm -rf "$work"
find "$C" -type f | wc -l | xargs echo "seed files:"
