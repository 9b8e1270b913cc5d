#!/usr/bin/env bash
# Rewrites scripts/onnx/onnx.proto3, the official ONNX schema, from the onnx Python package
# of PYTHON (default /work/venv-torch/bin/python): the package's own gen_proto.py turns the
# onnx.in.proto it ships into onnx.proto and onnx.proto3 with the flags the ONNX project
# uses for the files it commits (-l: the protobuf-lite option, package `onnx`, no ONNX-ML).
# The proto2 twin must equal the onnx.proto the package ships, which shows the flags are
# the project's; then only onnx.proto3 is kept. Afterwards, record the printed version and
# checksum in scripts/onnx/README.md and run scripts/onnx/regenerate.sh.
#
# Usage: scripts/onnx/import-schema.sh [PYTHON]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
python="${1:-/work/venv-torch/bin/python}"
package="$("$python" -c 'import onnx, os; print(os.path.dirname(onnx.__file__))')"
version="$("$python" -c 'import onnx; print(onnx.__version__)')"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" "$package/gen_proto.py" -l -p onnx -o "$work" onnx >/dev/null
if ! cmp -s "$work/onnx.proto" "$package/onnx.proto"; then
    echo "import-schema.sh: gen_proto.py's onnx.proto differs from the one onnx $version ships; not replacing the schema" >&2
    exit 2
fi
cp "$work/onnx.proto3" "$here/onnx.proto3"
echo "wrote $here/onnx.proto3: onnx $version, sha256 $(sha256sum "$here/onnx.proto3" | cut -d' ' -f1)"
