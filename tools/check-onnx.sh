#!/usr/bin/env bash
# Exports every BVLC deploy net in the tree, LeNet and CIFAR-10 quick, and the zoo-shaped nets
# of tools/zoo_nets.py (ResNet-50/101/152, SqueezeNet 1.1, MobileNet v1/v2, SE-BN-Inception,
# DenseNet-121, every-layer) with random weights, runs each in onnxruntime (from PyPI, in
# tools/.venv) on a random batch of 2 and compares with Cortado's outputs. Prints a Markdown
# table (docs/ONNX.md has the last one); exits 1 when an output differs by more than 1e-4.
source "$(dirname "$0")/preamble.sh"
build_release
VENV=tools/.venv
need_venv "$VENV" onnxruntime onnx numpy h5py
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
python3 tools/zoo_nets.py "$WORK/zoo"
nets=()
for f in Tests/CortadoTests/Fixtures/bvlc/models/*/deploy.prototxt models/lenet/lenet_deploy.prototxt \
         Tests/CortadoTests/Fixtures/bvlc/examples/cifar10/cifar10_quick.prototxt "$WORK"/zoo/*.prototxt; do
    name="$(basename "$(dirname "$f")")"
    case "$f" in */zoo/*|*/lenet/*|*/cifar10/*) name="$(basename "$f" .prototxt)" ;; esac
    .build/release/cortado export-onnx --model "$f" --random-weights 1 -o "$WORK/$name.onnx" --reference "$WORK/$name.h5" 2>/dev/null
    nets+=("$name=$WORK/$name.onnx,$WORK/$name.h5")
done
"$VENV/bin/python" tools/check_onnx.py "${nets[@]}"
