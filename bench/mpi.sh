#!/usr/bin/env bash
# Data-parallel scaling on this machine: LeNet (Fashion-MNIST) and CIFAR-10 quick (synthetic)
# training with 1 rank and with 2 ranks under mpirun, one thread per rank, per-rank batch fixed
# (so 2 ranks do twice the work per iteration), with and without overlapping the gradient sums
# with backward. Alternates the three setups, --rounds times (default 3). Prints a Markdown
# table for bench/RESULTS.md. Needs Open MPI (.ci/install-deps.sh) and the Fashion-MNIST files.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >/dev/null
[ -f data/fashion-mnist/train.h5 ] || bash data/fashion-mnist/get_fashion_mnist.sh
exec python3 bench/mpi.py "$@"
