#!/usr/bin/env bash
# Cortado against PyTorch, side by side and alternating: LeNet and CIFAR-10 quick training, and
# one SGD step at batch 16 of ResNet-50, MobileNet v1 and v2, GoogLeNet, SqueezeNet 1.1 and
# CaffeNet (bench/nets/make_nets.py). Builds Cortado in release, makes bench/.venv with PyTorch
# (CPU wheels) from PyPI, runs bench/compare.py (pass --pairs N, --only NAME) and writes the
# table into bench/RESULTS.md. Needs the Fashion-MNIST HDF5 files
# (data/fashion-mnist/get_fashion_mnist.sh).
source "$(dirname "$0")/../tools/preamble.sh"
build_release
VENV=bench/.venv
if [ ! -x "$VENV/bin/python" ]; then
    # PyTorch's CPU wheels first (much smaller), PyPI's torch otherwise.
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --index-url https://download.pytorch.org/whl/cpu torch \
        || "$VENV/bin/pip" install -q torch
    "$VENV/bin/pip" install -q numpy h5py
fi
need_fashion_mnist
exec "$VENV/bin/python" bench/compare.py "$@"
