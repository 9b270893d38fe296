#!/usr/bin/env bash
# Runs every fuzz target for N executions (default 100000) and prints one line per target:
# executions, seconds, new coverage units, peak RSS, and whether it ended cleanly.
set -uo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
for t in prototxt config caffemodel solverstate binaryproto hdf5 datum idx; do
    start=$(date +%s)
    tools/fuzz.sh "$t" "$N" > ".build-fuzz/$t.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    runs=$(grep -o 'number_of_executed_units: [0-9]*' ".build-fuzz/$t.log" | tail -1 | awk '{print $2}')
    rss=$(grep -o 'peak_rss_mb: *[0-9]*' ".build-fuzz/$t.log" | tail -1 | awk '{print $2}')
    units=$(grep -o 'new_units_added: *[0-9]*' ".build-fuzz/$t.log" | tail -1 | awk '{print $2}')
    echo "$t: exit $rc, ${runs:-?} executions in ${secs}s, ${units:-?} new units, peak RSS ${rss:-?} MB"
done
