#!/usr/bin/env bash
# The whole test suite under AddressSanitizer (leaks included), then the tests that run the
# prefetch threads (Data, ImageData, CIFAR) and the layers split across Cortado's worker pool
# (ParallelTests, PoolingLayerTests) under ThreadSanitizer. Separate build folders, so
# the normal .build is untouched. About 10 minutes on 2 cores. Full output: .build-asan/suite.log
# and .build-tsan/suite.log; the summary lines are printed.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .build-asan .build-tsan
echo "== AddressSanitizer: the whole suite"
LSAN_OPTIONS=suppressions=$PWD/tools/fuzz/lsan.supp:print_suppressions=0 \
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    swift test --sanitize=address --scratch-path .build-asan > .build-asan/suite.log 2>&1
asan=$?
grep -E "Test run with|ERROR: (Address|Leak)Sanitizer|SUMMARY: " .build-asan/suite.log
echo "exit $asan"
echo "== ThreadSanitizer: prefetching data layers and the worker pool"
TSAN_OPTIONS=halt_on_error=1 \
    swift test --sanitize=thread --scratch-path .build-tsan --filter 'DataLayerTests|ImageDataTests|CIFARTests|ParallelTests|PoolingLayerTests' > .build-tsan/suite.log 2>&1
tsan=$?
grep -E "Test run with|WARNING: ThreadSanitizer|SUMMARY: " .build-tsan/suite.log
echo "exit $tsan"
[ $asan -eq 0 ] && [ $tsan -eq 0 ]
