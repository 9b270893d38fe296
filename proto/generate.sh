#!/usr/bin/env bash
# Regenerates Sources/CCaffeProto from proto/caffe_subset.proto with protoc-c
# (Debian: protobuf-c-compiler). Run from the repository root; commit the result.
set -euo pipefail
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
protoc-c --c_out="$OUT" -I proto proto/caffe_subset.proto
cp "$OUT/caffe_subset.pb-c.c" Sources/CCaffeProto/caffe_subset.pb-c.c
cp "$OUT/caffe_subset.pb-c.h" Sources/CCaffeProto/include/caffe_subset.pb-c.h
echo "regenerated Sources/CCaffeProto"
