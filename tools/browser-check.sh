#!/usr/bin/env bash
# The dashboard in a real browser: installs Debian's chromium, trains LeNet (up to 5000 iterations)
# with --serve, takes two headless screenshots of the page a few seconds apart, checks that the
# curves changed (and the run's log grew) between them, then presses "stop" through the API
# and checks the run ends "stopped". With --update, the second screenshot becomes
# docs/dashboard.png (the one in the README). Needs the Fashion-MNIST files.
source "$(dirname "$0")/preamble.sh"
command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
build_release
need_fashion_mnist
WORK="$(mktemp -d)"
trap 'kill "$TRAIN" 2>/dev/null || true; rm -rf "$WORK"' EXIT
sed -e "s#snapshot_prefix: .*#snapshot_prefix: \"$WORK/lenet\"#" -e 's/max_iter: .*/max_iter: 5000/' -e 's/display: .*/display: 10/' \
    -e 's/test_interval: .*/test_interval: 50/' -e 's/test_iter: .*/test_iter: 20/' -e 's/^snapshot: .*/snapshot: 200/' \
    solvers/lenet_solver.prototxt > "$WORK/solver.prototxt"
.build/release/cortado train --solver "$WORK/solver.prototxt" --serve 127.0.0.1:0 --threads 1 --progress never 2> "$WORK/train.log" &
TRAIN=$!
for _ in $(seq 50); do grep -q "Dashboard: " "$WORK/train.log" && break; sleep 0.2; done
URL="$(grep -o 'http://[^ ]*' "$WORK/train.log" | head -1)"
BASE="${URL%%/?token=*}" TOKEN="${URL##*token=}"
echo "dashboard at $BASE"
shot() {
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1240,1100 \
        --virtual-time-budget=3000 --screenshot="$1" "$URL" >/dev/null 2>&1
}
records() { curl -s "$BASE/api/runs/$(curl -s "$BASE/api/runs" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')/log" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
sleep 4
shot "$WORK/first.png"; first=$(records)
sleep 5
shot "$WORK/second.png"; second=$(records)
echo "log records: $first, then $second; screenshots: $(stat -c %s "$WORK/first.png") and $(stat -c %s "$WORK/second.png") bytes"
[ "$second" -gt "$first" ] || { echo "FAIL: the run's log did not grow"; exit 1; }
cmp -s "$WORK/first.png" "$WORK/second.png" && { echo "FAIL: the page did not change"; exit 1; }
[ "$(stat -c %s "$WORK/second.png")" -gt 20000 ] || { echo "FAIL: the screenshot looks empty"; exit 1; }
ID="$(curl -s "$BASE/api/runs" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/api/runs/$ID/stop")" = 403 ] || { echo "FAIL: stop without the token was accepted"; exit 1; }
curl -s -X POST -H "Authorization: Bearer $TOKEN" "$BASE/api/runs/$ID/stop" >/dev/null
wait "$TRAIN" || true
state="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"])' "$WORK/lenet_run.json")"
echo "run state after stop: $state"
[ "$state" = stopped ] || { echo "FAIL: the run did not stop"; exit 1; }
if [ "${1:-}" = "--update" ]; then cp "$WORK/second.png" docs/dashboard.png; echo "updated docs/dashboard.png"; fi
echo "browser check passed"
