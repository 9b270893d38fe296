#!/usr/bin/env bash
# Runs one libFuzzer target over Cortado's readers for N executions:
#   tools/fuzz.sh TARGET N [extra libFuzzer flags]
# TARGET: prototxt | config | caffemodel | solverstate | binaryproto | hdf5 | datum | idx
# The seed corpus is tools/fuzz/corpus/TARGET (made by tools/fuzz-seeds.sh when absent); what libFuzzer
# finds is kept in .build-fuzz/corpus/TARGET, crashers in .build-fuzz/crashes/TARGET.
# Needs the packages of .ci/install-deps.sh; builds once into .build-fuzz/ (about 3 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${1:?target}; RUNS=${2:-100000}; shift 2 || true
OUT=.build-fuzz
mkdir -p "$OUT/modules/CCaffeProto" "$OUT/corpus/$TARGET" "$OUT/crashes/$TARGET"
BIN="$OUT/cortado-fuzz"
# The readers' targets (Base up to Solvers) compiled as one module, their imports of each
# other taken out; every C module they use gets its include path.
LIBRARY="Sources/CortadoBase Sources/CortadoIO Sources/CortadoConfig Sources/CortadoLayers Sources/CortadoNet Sources/CortadoSolvers"
if [ ! -x "$BIN" ] || [ -n "$(find $LIBRARY tools/fuzz -newer "$BIN" -name '*.swift' | head -1)" ]; then
    cat > "$OUT/modules/CCaffeProto/module.modulemap" <<MAP
module CCaffeProto { header "$PWD/Sources/CCaffeProto/include/caffe_subset.pb-c.h" export * }
MAP
    clang -c -O1 -g -fsanitize=fuzzer-no-link,address -I Sources/CCaffeProto/include \
        Sources/CCaffeProto/caffe_subset.pb-c.c -o "$OUT/caffe_subset.o"
    rm -rf "$OUT/src" && mkdir -p "$OUT/src"
    for f in $(find $LIBRARY -name '*.swift'); do
        sed -E '/^import Cortado(Base|IO|Config|Layers|Net|Solvers)$/d' "$f" > "$OUT/src/$(echo "$f" | tr / _)"
    done
    HDF5_CFLAGS=$(pkg-config --cflags hdf5)
    swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name Cortado -package-name cortado \
        -I Sources/CBLAS -I Sources/CDNNL -I Sources/CHDF5 -I Sources/CLMDB -I Sources/CTurboJPEG -I Sources/CPNG -I "$OUT/modules/CCaffeProto" \
        $(for f in $HDF5_CFLAGS; do echo "-Xcc $f"; done) \
        "$OUT"/src/*.swift tools/fuzz/FuzzTargets.swift "$OUT/caffe_subset.o" \
        -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lprotobuf-c -o "$BIN"
fi
# The hdf5 target parses unverified files in a child process, as the tool does: a built cortado.
# (a release build: it starts in about 20 ms, so the target runs at about 40 inputs a second).
swift build -c release --product cortado > /dev/null
export CORTADO_FUZZ_HELPER=$PWD/.build/release/cortado
# Seeds are made, not committed: tools/fuzz-seeds.sh writes them from the fixtures.
[ -d tools/fuzz/corpus ] || bash tools/fuzz-seeds.sh
SEEDS=tools/fuzz/corpus/$TARGET
[ -d "$SEEDS" ] || SEEDS=""
export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tools/fuzz/lsan.supp:print_suppressions=0}
CORTADO_FUZZ_TARGET=$TARGET "$BIN" -runs="$RUNS" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
    -artifact_prefix="$OUT/crashes/$TARGET/" -print_final_stats=1 "$@" "$OUT/corpus/$TARGET" $SEEDS
