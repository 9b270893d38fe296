#!/usr/bin/env bash
# Regenerates Sources/CCaffeProto from proto/caffe_subset.proto and Sources/CONNXProto from
# proto/onnx_subset.proto with protoc-c (Debian: protobuf-c-compiler). Run from the repository
# root; commit the result.
set -euo pipefail
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
for pair in caffe_subset:CCaffeProto onnx_subset:CONNXProto; do
    name="${pair%%:*}" target="${pair##*:}"
    protoc-c --c_out="$OUT" -I proto "proto/$name.proto"
    mkdir -p "Sources/$target/include"
    cp "$OUT/$name.pb-c.c" "Sources/$target/$name.pb-c.c"
    cp "$OUT/$name.pb-c.h" "Sources/$target/include/$name.pb-c.h"
    echo "regenerated Sources/$target"
done
