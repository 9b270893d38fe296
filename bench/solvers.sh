#!/usr/bin/env bash
# Trains LeNet on Fashion-MNIST with each solver file in solvers/ and prints the final test
# accuracy and wall time of each. Run from the repository root after README command (1).
# RULES="adam rmsprop" picks a subset.
set -euo pipefail
CORTADO=.build/release/cortado
for rule in ${RULES:-sgd nesterov adagrad rmsprop adadelta adam}; do
    file=solvers/lenet_solver_$rule.prototxt
    [ "$rule" = sgd ] && file=solvers/lenet_solver.prototxt
    start=$(date +%s)
    acc=$("$CORTADO" train --solver "$file" 2>&1 | grep "Test net output #0" | tail -1 | sed 's/.*= //')
    end=$(date +%s)
    echo "$rule: final test accuracy $acc, wall $((end - start)) s"
done
