#!/usr/bin/env bash
# One backward pass of every BVLC deploy net in the tree and the zoo-shaped nets of
# tools/zoo_nets.py (batch 2, random weights and input as in check-onnx.sh, a SoftmaxWithLoss
# in place of the final Softmax), once with convolutions on oneDNN and once on im2col
# (CORTADO_ONEDNN=0), and once more on im2col with every input value 2 ulp up (the net's own
# sensitivity), and compares the parameter gradients (tools/onednn_check.py, in tools/.venv).
source "$(dirname "$0")/preamble.sh"
build_release
VENV=tools/.venv
need_venv "$VENV" onnxruntime onnx numpy h5py
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
python3 tools/zoo_nets.py "$WORK/zoo"
pairs=()
for f in Tests/CortadoTests/Fixtures/bvlc/models/*/deploy.prototxt "$WORK"/zoo/*.prototxt; do
    case "$f" in */zoo/*) name="$(basename "$f" .prototxt)" ;; *) name="$(basename "$(dirname "$f")")" ;; esac
    grep -q 'type: "Softmax"' "$f" || continue
    # Batch 2, a label of 3 for every example, and the loss on the final Softmax's input.
    conv1="$(python3 - "$f" "$WORK/$name.prototxt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r"dim: \d+", "dim: 2", text, count=1)
text = re.sub(r'type: "Softmax"(\s+bottom: "[^"]+")(\s+)top: "prob"', r'type: "SoftmaxWithLoss"\1\2bottom: "label"\2top: "loss"', text)
label = 'layer { name: "label" type: "DummyData" top: "label" dummy_data_param { shape { dim: 2 } data_filler { type: "constant" value: 3 } } }\n'
first = re.search(r"^layer\s*\{", text, re.M).start()
open(sys.argv[2], "w").write(text[:first] + label + text[first:])
print(re.search(r'name: "([^"]+)"\s+type: "Convolution"', text).group(1))
PY
)"
    .build/release/cortado __gradients --model "$WORK/$name.prototxt" -o "$WORK/$name.onednn.h5"
    CORTADO_ONEDNN=0 .build/release/cortado __gradients --model "$WORK/$name.prototxt" -o "$WORK/$name.im2col.h5"
    CORTADO_ONEDNN=0 .build/release/cortado __gradients --model "$WORK/$name.prototxt" -o "$WORK/$name.nudged.h5" --nudge-ulps 2
    pairs+=("$name:$conv1=$WORK/$name.onednn.h5,$WORK/$name.im2col.h5,$WORK/$name.nudged.h5")
done
"$VENV/bin/python" tools/onednn_check.py "${pairs[@]}"
