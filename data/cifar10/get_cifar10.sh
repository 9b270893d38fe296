#!/usr/bin/env bash
# Converts CIFAR-10's binary batches into the LMDBs and mean that models/cifar10_quick reads.
# This machine cannot download CIFAR-10: fetch "CIFAR-10 binary version" (cifar-10-binary.tar.gz)
# from https://www.cs.toronto.edu/~kriz/cifar.html elsewhere, unpack it so that
# data/cifar10/cifar-10-batches-bin/ holds data_batch_1.bin … test_batch.bin, then run from
# the repository root:
#   bash data/cifar10/get_cifar10.sh [path/to/cortado]
set -euo pipefail
CORTADO="${1:-.build/release/cortado}"
DIR=data/cifar10
if [ ! -f "$DIR/cifar-10-batches-bin/data_batch_1.bin" ]; then
    echo "error: $DIR/cifar-10-batches-bin/data_batch_1.bin not found; see the comment at the top of this script" >&2
    exit 1
fi
rm -rf "$DIR/cifar10_train_lmdb" "$DIR/cifar10_test_lmdb"
"$CORTADO" convert-cifar "$DIR/cifar-10-batches-bin" "$DIR"
"$CORTADO" compute-image-mean "$DIR/cifar10_train_lmdb" "$DIR/mean.binaryproto"
echo "CIFAR-10 ready: $DIR/cifar10_train_lmdb, $DIR/cifar10_test_lmdb, $DIR/mean.binaryproto"
