#!/usr/bin/env bash
# Data-parallel scaling on this machine: LeNet (Fashion-MNIST) and CIFAR-10 quick (synthetic)
# training with 1 rank and with 2 ranks under mpirun, one thread per rank, per-rank batch fixed
# (so 2 ranks do twice the work per iteration), with and without overlapping the gradient sums
# with backward. Alternates the three setups, --rounds times (default 3). Prints a Markdown
# table for bench/RESULTS.md. Needs Open MPI (.ci/install-deps.sh) and the Fashion-MNIST files.
source "$(dirname "$0")/../tools/preamble.sh"
build_release
need_fashion_mnist
exec python3 bench/mpi.py "$@"
