#!/usr/bin/env bash
# LeNet on Fashion-MNIST: per-layer timing (`cortado time`) and the wall time of the full
# 10,000-iteration run with testing. Run from the repository root after README command (1)
# has built the release binary and converted the data. Figures go into bench/RESULTS.md by hand.
set -euo pipefail
CORTADO=.build/release/cortado
echo "== cortado time, batch 64, 50 iterations"
"$CORTADO" time --model models/lenet/lenet_train_test.prototxt --iterations 50 2>&1 | grep -E "forward:|backward:|Average|Total"
echo "== full training run"
rm -rf snapshots
/usr/bin/time -f "wall %e s, max RSS %M KB" "$CORTADO" train --solver solvers/lenet_solver.prototxt 2>&1 \
    | grep -E "Test net output #0|wall" | tail -3
"$CORTADO" test --model models/lenet/lenet_train_test.prototxt --weights snapshots/lenet_iter_10000.caffemodel.h5 --iterations 100 2>&1 | grep "test\] accuracy ="
