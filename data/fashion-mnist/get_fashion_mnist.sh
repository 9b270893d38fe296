#!/usr/bin/env bash
# Installs Debian's dataset-fashion-mnist if missing and converts its IDX files to HDF5
# for models/lenet (pixels × 1/256, labels as float). Run from the repository root:
#   bash data/fashion-mnist/get_fashion_mnist.sh [path/to/cortado]
set -euo pipefail
CORTADO="${1:-.build/release/cortado}"
SRC=/usr/share/datasets/fashion-mnist
OUT=data/fashion-mnist

if [ ! -f "$SRC/train-images-idx3-ubyte.gz" ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    gunzip -c "$SRC/$f.gz" > "$TMP/$f"
done
"$CORTADO" convert-mnist "$TMP/train-images-idx3-ubyte" "$TMP/train-labels-idx1-ubyte" "$OUT/train.h5"
"$CORTADO" convert-mnist "$TMP/t10k-images-idx3-ubyte" "$TMP/t10k-labels-idx1-ubyte" "$OUT/test.h5"
echo "$OUT/train.h5" > "$OUT/train.txt"
echo "$OUT/test.h5" > "$OUT/test.txt"
echo "Fashion-MNIST converted: $OUT/train.h5 (60000), $OUT/test.h5 (10000)"
