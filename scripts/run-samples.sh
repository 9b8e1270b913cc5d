#!/usr/bin/env bash
# `make run`: the main job on the bundled samples. Every program in samples/ is
# evaluated, gradient-checked and rendered (PNG and SVG) into out/.
# custom-op-wrong.grad has a deliberately wrong backward rule: its check must
# FAIL (exit 1), and that is reported as expected.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${CHAINRULE:-.build/release/chainrule}
out=${OUT:-out}
mkdir -p "$out"

failures=0
expect() {  # expect CODE DESCRIPTION -- COMMAND…
    local want=$1 what=$2; shift 3
    "$@"; local got=$?
    if [ "$got" -ne "$want" ]; then
        echo "!! $what: exit $got, expected $want" >&2
        failures=$((failures + 1))
    fi
}

echo "== the Swift API examples"
expect 0 "demo" -- "$bin" demo

for program in samples/*.grad; do
    name=$(basename "$program" .grad)
    want_check=0
    [ "$name" = custom-op-wrong ] && want_check=1
    echo
    echo "== $program"
    expect 0 "eval $name" -- "$bin" eval "$program"
    echo "-- check"
    expect "$want_check" "check $name" -- "$bin" check "$program"
    expect 0 "render $name (png)" -- "$bin" render "$program" -o "$out/$name.png"
    expect 0 "render $name (svg)" -- "$bin" render "$program" -o "$out/$name.svg"
    echo "-- rendered $out/$name.png, $out/$name.svg"
done

echo
if [ "$failures" -ne 0 ]; then
    echo "make run: $failures step(s) did not behave as expected" >&2
    exit 1
fi
echo "make run: every sample evaluated, checked and rendered into $out/ (custom-op-wrong.grad failed its check, as it must)"
