#!/usr/bin/env bash
# Zero copy, measured: 1,000 net.forward() calls on LeNet's deploy net from Python against the
# average forward pass `cortado time` reports for the same net, alternating, 5 rounds each.
# Run after the README's test command, which makes .build/python-venv with the package.
set -euo pipefail
cd "$(dirname "$0")/.."
NET=models/lenet/lenet_deploy.prototxt
for round in 1 2 3 4 5; do
    .build/python-venv/bin/python bench/python_forward.py "$NET"
    .build/release/cortado time --model "$NET" --phase TEST --iterations 1000 2>&1 | grep -E "Average Forward pass" | sed 's/.*Average/cortado time: Average/'
done
