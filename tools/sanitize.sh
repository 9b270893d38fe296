#!/usr/bin/env bash
# The whole test suite under AddressSanitizer (leaks included), then the tests that run the
# prefetch threads (Data, ImageData, CIFAR) under ThreadSanitizer. Separate build folders, so
# the normal .build is untouched. Takes about 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== AddressSanitizer: the whole suite"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
    swift test --sanitize=address --scratch-path .build-asan 2>&1 | tail -n 3
echo "== ThreadSanitizer: prefetching data layers"
TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1} \
    swift test --sanitize=thread --scratch-path .build-tsan --filter 'DataLayerTests|ImageDataTests|CIFARTests' 2>&1 | tail -n 3
