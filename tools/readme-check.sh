#!/usr/bin/env bash
# Runs every command of the README's indented code blocks, in order, verbatim, in a fresh
# clone of this repository, and reports each that fails. The first command (install, build,
# train LeNet, test) runs first, as a new user would; the test command (`swift test`) is left
# to CI. Commands that need what this machine cannot have are skipped with the reason:
# CIFAR-10's files (not downloadable here) and a cluster's hostfile.
# Servers (`--serve`, `cortado serve`) pass when they print their address and answer /api/runs.
# As root, Open MPI's run-as-root variables are set, as the README says root needs.
#   bash tools/readme-check.sh [CLONE_DIR]      (about 5 minutes on 2 cores)
set -uo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${1:-$(mktemp -d)/cortado}"
[ -d "$DIR" ] || git clone -q "$SRC" "$DIR"
cd "$DIR"
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi

# The indented blocks outside ``` fences, with backslash continuations joined.
mapfile -t COMMANDS < <(python3 - README.md <<'PY'
import sys
fenced, commands, pending = False, [], ""
for line in open(sys.argv[1]).read().splitlines():
    if line.startswith("```"):
        fenced = not fenced; continue
    if fenced or not line.startswith("    ") or line.startswith("     "):
        if not pending: continue
    text = (pending + " " + line.strip()) if pending else line[4:]
    if text.endswith("\\"):
        pending = text[:-1].strip(); continue
    pending = ""
    commands.append(text)
print("\n".join(commands))
PY
)

failed=0; passed=0; skipped=0
serve_check() {   # a server: its address printed, /api/runs answered, then stopped
    local log; log="$(mktemp)"
    bash -c "$1" >"$log" 2>&1 & local pid=$!
    local url=""
    for _ in $(seq 1 120); do
        url="$(grep -o 'http://[0-9.]*:[0-9]*/?token=[0-9a-f]*' "$log" | head -1)"
        [ -n "$url" ] && break; sleep 0.5
    done
    local ok=1
    if [ -n "$url" ]; then
        local base="${url%%/?token=*}"
        curl -sf "$base/api/runs" >/dev/null && ok=0
    fi
    kill -INT $pid 2>/dev/null; sleep 1; kill $pid 2>/dev/null; wait $pid 2>/dev/null
    [ $ok -eq 0 ] || tail -5 "$log"
    rm -f "$log"; return $ok
}
for cmd in "${COMMANDS[@]}"; do
    case "$cmd" in
        *"swift test"*) continue ;;
        *get_cifar10.sh*) [ -d data/cifar10/cifar-10-batches-bin ] || { echo "SKIP  $cmd  (CIFAR-10's binary batches are not here; see the README)"; skipped=$((skipped+1)); continue; } ;;
        *--hostfile*) echo "SKIP  $cmd  (needs a cluster and its hostfile)"; skipped=$((skipped+1)); continue ;;
    esac
    start=$(date +%s)
    if [[ "$cmd" == *"--serve "* || "$cmd" == *"cortado serve "* ]]; then serve_check "$cmd"; rc=$?
    else bash -c "$cmd" >/tmp/readme-check.log 2>&1; rc=$?; [ $rc -eq 0 ] || tail -5 /tmp/readme-check.log; fi
    if [ $rc -eq 0 ]; then echo "OK    $cmd  ($(( $(date +%s) - start )) s)"; passed=$((passed+1))
    else echo "FAIL  $cmd  (exit $rc)"; failed=$((failed+1)); fi
done
echo "readme-check: $passed passed, $failed failed, $skipped skipped (in $DIR)"
[ $failed -eq 0 ]
