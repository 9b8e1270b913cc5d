#!/usr/bin/env bash
# Regenerates Sources/ChainruleONNX/Generated/onnx.pb.swift from scripts/onnx/onnx.proto3.
#
# Needs Debian's protobuf-compiler (installed here if missing) and swift-protobuf's
# protoc-gen-swift plugin, built once from the same version the package depends on (1.39.0)
# in a folder outside the repository, because building the plugin takes minutes and
# CI must never do it. Usage: scripts/onnx/regenerate.sh [PLUGIN_BUILD_FOLDER]
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-/work/protoc-gen-swift-build}"
version="1.39.0"

if ! command -v protoc >/dev/null; then
    apt-get update
    apt-get install -y protobuf-compiler
fi

plugin="$build/swift-protobuf/.build/release/protoc-gen-swift"
if [ ! -x "$plugin" ]; then
    mkdir -p "$build"
    if [ ! -d "$build/swift-protobuf" ]; then
        git clone --depth 1 --branch "$version" https://github.com/apple/swift-protobuf "$build/swift-protobuf"
    fi
    swift build -c release --package-path "$build/swift-protobuf" --product protoc-gen-swift
fi

out="$repo/Sources/ChainruleONNX/Generated"
mkdir -p "$out"
protoc --plugin=protoc-gen-swift="$plugin" \
    --proto_path="$repo/scripts/onnx" \
    --swift_opt=Visibility=Package \
    --swift_out="$out" \
    "$repo/scripts/onnx/onnx.proto3"
echo "wrote $out/onnx.pb.swift"
