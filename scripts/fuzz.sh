#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ and runs each for SECONDS (default 1800),
# one after the other, then prints executions, coverage and findings per target.
#
#   scripts/fuzz.sh [SECONDS] [LanguageFuzzer|NpyFuzzer|ONNXFuzzer ...]
#
# Each target grows its own working corpus in Fuzz/.work/TARGET (kept between
# runs, not committed) from the committed seeds (Fuzz/Corpus/..., samples/).
# Runs in libFuzzer's fork mode with one worker, so a crash, timeout or
# out-of-memory is saved to Fuzz/.findings/TARGET/ and the run goes on.
# Logs: Fuzz/.work/TARGET.log. Environment: FUZZ_NICE (default 10) is the
# niceness of the build and runs; FUZZ_BUILD=0 skips the build.
set -euo pipefail

seconds=${1:-1800}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(LanguageFuzzer NpyFuzzer ONNXFuzzer)
fuzz=$(cd "$(dirname "$0")/../Fuzz" && pwd)
nice_level=${FUZZ_NICE:-10}

cd "$fuzz"
# Leaks of system libraries' one-time caches are suppressed; Swift's own
# backtracer is off so AddressSanitizer prints the stack.
export LSAN_OPTIONS="suppressions=$fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export SWIFT_BACKTRACE=enable=no
if [ "${FUZZ_BUILD:-1}" != 0 ]; then
  # ld.gold warns once per ASan helper symbol ("Cannot export local symbol"): harmless, filtered.
  if ! nice -n "$nice_level" swift build -c debug -Xswiftc -sanitize=fuzzer,address >.build-fuzz.log 2>&1; then
    grep -v "Cannot export local symbol" .build-fuzz.log >&2
    echo "fuzz.sh: the build failed" >&2
    exit 2
  fi
  grep -v "Cannot export local symbol" .build-fuzz.log | grep "warning:" >&2 || true
fi

for target in "${targets[@]}"; do
  case "$target" in
    LanguageFuzzer) seeds=(Corpus/Language ../samples); options=(-dict=grad.dict -max_len=65536) ;;
    NpyFuzzer) seeds=(Corpus/Npy); options=(-dict=npy.dict -max_len=65536) ;;
    ONNXFuzzer) seeds=(Corpus/ONNX); options=(-dict=onnx.dict -max_len=65536) ;;
    *) echo "fuzz.sh: unknown target '$target' (LanguageFuzzer, NpyFuzzer, ONNXFuzzer)" >&2; exit 2 ;;
  esac
  mkdir -p ".work/$target" ".findings/$target"
  log=".work/$target.log"
  echo "== $target: $seconds s, log $fuzz/$log"
  # -timeout: one input over 10 s is a hang; -rss_limit_mb: over 2 GB is an out-of-memory.
  nice -n "$nice_level" ".build/debug/$target" ".work/$target" "${seeds[@]}" "${options[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -artifact_prefix=".findings/$target/" >"$log" 2>&1 || true
  # Fork mode's status lines: "#N: cov: C ft: F corp: K exec/s: E oom/timeout/crash: O/T/X time: Ts ..."
  last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1)
  [ -n "$last" ] || { echo "fuzz.sh: no status line in $log" >&2; tail -20 "$log" >&2; exit 2; }
  echo "$last" | awk '{ sub(/^#/, "", $1); sub(/:$/, "", $1);
    for (i = 2; i <= NF; i++) { if ($i == "cov:") c = $(i+1); if ($i == "ft:") f = $(i+1); if ($i == "corp:") k = $(i+1); if ($i == "oom/timeout/crash:") x = $(i+1); if ($i == "time:") t = $(i+1) }
    printf "   executions %s, coverage %s edges (%s features), corpus %s, oom/timeout/crash %s, %s\n", $1, c, f, k, x, t }'
  ls ".findings/$target" | sed 's/^/   finding: /'
done
# A worker that libFuzzer ended never ran its exit handler: remove the
# fixture folders (Fixtures.directory) of processes that no longer exist.
for folder in "${TMPDIR:-/tmp}"/chainrule-fuzz-*; do
  [ -d "$folder" ] || continue
  kill -0 "${folder##*-}" 2>/dev/null || rm -rf "$folder"
done
