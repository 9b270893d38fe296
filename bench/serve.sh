#!/usr/bin/env bash
# Training speed with and without `--serve`: LeNet, 1000 iterations (display every 100, so the
# dashboard has records to serve), alternating, N pairs (default 3). With POLL=1 a client fetches
# /api/runs and the log every second while the served run trains (its own CPU use, curl and
# python, competes with training on a 2-core machine). Prints each time and the medians.
source "$(dirname "$0")/../tools/preamble.sh"
build_release
PAIRS="${1:-3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
sed -e 's/display: 1000/display: 100/' -e "s#random_seed: 1#random_seed: 1\nsnapshot_prefix: \"$WORK/lenet\"#" bench/solvers/lenet_1000.prototxt > "$WORK/solver.prototxt"
seconds() { grep -o 'iter/s, [0-9.]*s/100 iters' "$1" | awk -F'[ s]' '{ sum += $3 } END { print sum }'; }
plain=() served=()
for _ in $(seq "$PAIRS"); do
    .build/release/cortado train --solver "$WORK/solver.prototxt" --progress never 2> "$WORK/plain.log"
    plain+=("$(seconds "$WORK/plain.log")")
    .build/release/cortado train --solver "$WORK/solver.prototxt" --progress never --serve 127.0.0.1:0 2> "$WORK/served.log" &
    pid=$!
    for _ in $(seq 50); do grep -q "Dashboard: " "$WORK/served.log" && break; sleep 0.1; done
    url="$(grep -o 'http://[^ ]*' "$WORK/served.log" | head -1)"; base="${url%%/?token=*}"
    while [ "${POLL:-0}" = 1 ] && kill -0 "$pid" 2>/dev/null; do
        id="$(curl -s "$base/api/runs" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])' 2>/dev/null || true)"
        [ -n "$id" ] && curl -s "$base/api/runs/$id/log" >/dev/null
        sleep 1
    done
    wait "$pid" || true
    served+=("$(seconds "$WORK/served.log")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo "without --serve: ${plain[*]} s (median $(median "${plain[@]}"))"
echo "with --serve:    ${served[*]} s (median $(median "${served[@]}"))"
