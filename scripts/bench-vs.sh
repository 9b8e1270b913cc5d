#!/usr/bin/env bash
# `make bench-vs`: Chainrule against its anchors (torch, micrograd, torchviz),
# measured side by side in one interleaved run on this machine.
#
# The Python side lives outside the repository, in $CHAINRULE_BENCH_VENV
# (default ~/.cache/chainrule/bench-venv), built from PyPI when something is
# missing: torch (CPU), micrograd 0.1.0, torchviz (and Graphviz's `dot`, which
# torchviz runs, from Debian's graphviz package). CHAINRULE_BENCH_PYTHON names
# a Python that already has them instead.
set -euo pipefail
cd "$(dirname "$0")/.."
CHAINRULE=${CHAINRULE:-.build/release/chainrule}
ROUNDS=${ROUNDS:-7}
# ROUNDS: interleaved rounds of each comparison (medians are printed); TRAINING_ROUNDS those of
# the training comparison (default 5), CHAINRULE_BENCH the chainrule-bench binary it runs.

if [ -n "${CHAINRULE_BENCH_PYTHON:-}" ]; then
    PY=$CHAINRULE_BENCH_PYTHON
else
    VENV=${CHAINRULE_BENCH_VENV:-$HOME/.cache/chainrule/bench-venv}
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    PY=$VENV/bin/python
fi
if ! "$PY" -c "import torch, micrograd, torchviz, numpy" 2>/dev/null; then
    echo "Installing torch (CPU), micrograd, torchviz and NumPy into $("$PY" -c 'import sys; print(sys.prefix)')…"
    "$PY" -m pip install -q --index-url https://download.pytorch.org/whl/cpu torch 2>/dev/null \
        || "$PY" -m pip install -q torch
    "$PY" -m pip install -q numpy micrograd==0.1.0 torchviz
fi
if ! command -v dot >/dev/null; then
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get install -y -qq graphviz >/dev/null
fi

echo "# make bench-vs on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# torch $("$PY" -c 'import torch; print(torch.__version__)'), micrograd 0.1.0, torchviz $("$PY" -c 'import importlib.metadata as m; print(m.version("torchviz"))'), $(dot -V 2>&1)"
"$PY" scripts/bench-vs/micrograd_step.py "$CHAINRULE" --rounds "$ROUNDS"
"$PY" scripts/bench-vs/figures.py "$CHAINRULE" --rounds "$ROUNDS"
# Training steps against torch's float64 step: chainrule-bench's training table beside the torch script's.
if [ -n "${CHAINRULE_BENCH:-}" ]; then BENCH=$CHAINRULE_BENCH; else
    swift build -c release --static-swift-stdlib --product chainrule-bench >/dev/null
    BENCH=.build/release/chainrule-bench
fi
"$PY" scripts/bench-vs/training.py "$BENCH" --rounds "${TRAINING_ROUNDS:-5}"
# Full checks against torch.autograd.gradcheck; CHECK_SIZES picks the parameter counts (100k takes minutes).
"$PY" scripts/bench-vs/check.py --chainrule "$CHAINRULE" --rounds "$ROUNDS" --sizes "${CHECK_SIZES:-10k,30k,100k}"
