#!/usr/bin/env bash
# Regenerates Sources/ChainruleONNX/Generated/onnx.pb.swift from scripts/onnx/onnx.proto3,
# the official ONNX schema (scripts/onnx/README.md says which version and where it comes from).
#
# Needs Debian's protobuf-compiler (installed here if missing) and swift-protobuf's
# protoc-gen-swift plugin of exactly the version Package.swift pins, so the generated code
# matches the runtime it links against. The plugin is taken from, in this order:
#   1. $PROTOC_GEN_SWIFT, the path of a built plugin;
#   2. PLUGIN_BUILD_FOLDER/swift-protobuf/.build/release/protoc-gen-swift
#      (PLUGIN_BUILD_FOLDER defaults to /work/protoc-gen-swift-build);
#   3. otherwise the script clones swift-protobuf at that version into PLUGIN_BUILD_FOLDER and
#      builds the plugin there, outside the repository: about 15 minutes on 2 cores, which is
#      why the generated file is committed and neither the package build nor CI ever does this.
#
# Usage: scripts/onnx/regenerate.sh [PLUGIN_BUILD_FOLDER]
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-/work/protoc-gen-swift-build}"
version="$(sed -n 's|.*apple/swift-protobuf", exact: "\([0-9.]*\)".*|\1|p' "$repo/Package.swift")"
[ -n "$version" ] || { echo "regenerate.sh: no exact swift-protobuf version in Package.swift" >&2; exit 2; }

if ! command -v protoc >/dev/null; then
    apt-get update
    apt-get install -y protobuf-compiler
fi

plugin="${PROTOC_GEN_SWIFT:-$build/swift-protobuf/.build/release/protoc-gen-swift}"
if [ ! -x "$plugin" ]; then
    [ -z "${PROTOC_GEN_SWIFT:-}" ] || { echo "regenerate.sh: PROTOC_GEN_SWIFT=$plugin is not an executable" >&2; exit 2; }
    mkdir -p "$build"
    if [ ! -d "$build/swift-protobuf" ]; then
        git clone --depth 1 --branch "$version" https://github.com/apple/swift-protobuf "$build/swift-protobuf"
    fi
    swift build -c release --package-path "$build/swift-protobuf" --product protoc-gen-swift
fi
built="$("$plugin" --version)"
if [ "$built" != "protoc-gen-swift $version" ]; then
    echo "regenerate.sh: $plugin is '$built', but Package.swift pins swift-protobuf $version" >&2
    exit 2
fi

# Visibility=Package: the generated types are seen by this package's targets and tests only,
# never by users of the ChainruleONNX library.
out="$repo/Sources/ChainruleONNX/Generated"
mkdir -p "$out"
protoc --plugin=protoc-gen-swift="$plugin" \
    --proto_path="$repo/scripts/onnx" \
    --swift_opt=Visibility=Package \
    --swift_out="$out" \
    "$repo/scripts/onnx/onnx.proto3"
echo "wrote $out/onnx.pb.swift with $built from onnx.proto3 ($(wc -l <"$out/onnx.pb.swift") lines)"
