#!/usr/bin/env bash
# The kill -9 experiment: trains LeNet with a snapshot every 10 iterations, kills it with
# SIGKILL at a random moment or exactly at a chosen system call (rename, fsync, write, via
# strace's signal injection), then
#   1. checks every snapshot file left behind with `cortado verify` (damaged files: must be 0),
#   2. resumes from the newest solver state to iteration 60 and compares the final weights
#      with an uninterrupted run, byte for byte (resumes not bit-identical: must be 0).
# Usage: tools/kill9.sh [TRIALS]  (default 30; needs README command (1)'s data and release build)
set -uo pipefail
cd "$(dirname "$0")/.."
TRIALS=${1:-30}
CORTADO=$PWD/.build/release/cortado
[ -f data/fashion-mnist/train.h5 ] || { echo "run data/fashion-mnist/get_fashion_mnist.sh first"; exit 2; }
work=$(mktemp -d)
solver() {  # solver DIR FORMAT
    sed -e "s#^net: .*#net: \"$PWD/models/lenet/lenet_train_test.prototxt\"#" -e 's/^max_iter: .*/max_iter: 60/' \
        -e 's/^snapshot: .*/snapshot: 10/' -e 's/^test_interval: .*/test_interval: 1000/' -e 's/^display: .*/display: 10/' \
        -e "s#^snapshot_prefix: .*#snapshot_prefix: \"$1/lenet\"#" -e "/^snapshot_format:/d" solvers/lenet_solver.prototxt > "$1/solver.prototxt"
    echo "snapshot_format: $2 test_initialization: false" >> "$1/solver.prototxt"
}
damaged=0; unequal=0; resumed=0; killed=0
for fmt in HDF5 BINARYPROTO; do
    ext=$([ $fmt = HDF5 ] && echo .h5 || echo "")
    mkdir -p "$work/ref-$fmt"; solver "$work/ref-$fmt" $fmt
    "$CORTADO" train --solver "$work/ref-$fmt/solver.prototxt" --progress never 2>/dev/null || { echo "reference run failed"; exit 1; }
    for i in $(seq 1 "$TRIALS"); do
        t="$work/$fmt-$i"; mkdir -p "$t"; solver "$t" $fmt
        case $((i % 4)) in
            0) sleep_for=$(python3 -c "import random; print(random.uniform(0.2, 1.5))")
               "$CORTADO" train --solver "$t/solver.prototxt" --progress never 2>/dev/null & pid=$!
               sleep "$sleep_for"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; how="random ${sleep_for}s" ;;
            1) n=$((1 + RANDOM % 8)); strace -f -qq -o /dev/null -e inject=rename:signal=SIGKILL:when=$n "$CORTADO" train --solver "$t/solver.prototxt" --progress never 2>/dev/null; how="rename #$n" ;;
            2) n=$((1 + RANDOM % 16)); strace -f -qq -o /dev/null -e inject=fsync:signal=SIGKILL:when=$n "$CORTADO" train --solver "$t/solver.prototxt" --progress never 2>/dev/null; how="fsync #$n" ;;
            3) n=$((1 + RANDOM % 12)); strace -f -qq -o /dev/null -e trace=write -e inject=write:signal=SIGKILL:when=$n "$CORTADO" train --solver "$t/solver.prototxt" --progress never 2>/dev/null; how="write #$n" ;;
        esac
        killed=$((killed + 1))
        for f in "$t"/lenet_iter_*; do
            [ -e "$f" ] || continue
            case "$f" in *.tmp-*) continue ;; esac
            "$CORTADO" verify "$f" > /dev/null 2>&1 || { echo "DAMAGED: $f ($how)"; damaged=$((damaged + 1)); }
        done
        state=$(ls "$t"/lenet_iter_*.solverstate$ext 2>/dev/null | grep -v tmp- | sort -t_ -k3 -n | tail -1)
        if [ -n "$state" ]; then
            "$CORTADO" train --solver "$t/solver.prototxt" --snapshot "$state" --progress never 2>/dev/null
        else
            "$CORTADO" train --solver "$t/solver.prototxt" --progress never 2>/dev/null
        fi
        resumed=$((resumed + 1))
        # HDF5 files record creation times, so compare the weights through the binary form.
        "$CORTADO" convert-weights "$t/lenet_iter_60.caffemodel$ext" "$t/final.caffemodel" 2>/dev/null
        [ -f "$work/ref-$fmt/final.caffemodel" ] || "$CORTADO" convert-weights "$work/ref-$fmt/lenet_iter_60.caffemodel$ext" "$work/ref-$fmt/final.caffemodel" 2>/dev/null
        cmp -s "$t/final.caffemodel" "$work/ref-$fmt/final.caffemodel" || { echo "NOT BIT-IDENTICAL: trial $fmt $i ($how, resumed from ${state:-scratch})"; unequal=$((unequal + 1)); }
        echo "trial $fmt $i: killed at $how; resumed from $(basename "${state:-none}")"
    done
done
echo "kill -9 trials: $killed, damaged files: $damaged, resumes: $resumed, not bit-identical: $unequal"
rm -rf "$work"
[ $damaged -eq 0 ] && [ $unequal -eq 0 ]
