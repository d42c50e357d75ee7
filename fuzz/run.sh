#!/usr/bin/env bash
# fuzz/run.sh [SECONDS [TARGET...]]: builds the libFuzzer targets (clang, -DORCHARD_FUZZ=ON: coverage,
# AddressSanitizer, UndefinedBehaviorSanitizer) in build-hardening/, the tree scripts/sanitize.sh asan
# runs its tests in, and runs each target (all of them by default) for SECONDS seconds (default 60),
# starting from its seeds (fuzz/seeds.sh) and the corpus kept from earlier runs in
# build-hardening/corpus/TARGET. Measured cold on 2 cores (empty ccache, Ninja): the eleven targets
# build in 3 min; with SECONDS=10 they run in 68 s, two at a time.
#
# A crash, sanitizer report, leak, timeout (> 10 s for one input) or out-of-memory (> 2 GB) stops
# that target; its input is saved as fuzz/crashes/TARGET/crash-<sha1> (or leak-, timeout-, oom-) and
# the script exits 1 once every target has run. Reproduce with build-hardening/fuzz/TARGET FILE.
#
# FUZZ_BUILD_DIR overrides build-hardening; FUZZ_JOBS the build's parallelism and FUZZ_PARALLEL how many
# targets run at once (both default to the cores); FUZZ_LOCK=FILE holds `flock FILE` around the build
# and around each group of targets run together (releasing it in between), for machines shared with
# other builds. Each run's statistics (executions, speed, coverage) are appended to
# build-hardening/fuzz-stats.log.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
SECONDS_PER_TARGET="${1:-60}"
shift || true
BUILD="${FUZZ_BUILD_DIR:-build-hardening}"
JOBS="${FUZZ_JOBS:-$(nproc)}"
PARALLEL="${FUZZ_PARALLEL:-$(nproc)}"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"

locked() {
  if [ -n "${FUZZ_LOCK:-}" ]; then flock "$FUZZ_LOCK" "$@"; else "$@"; fi
}

ALL_TARGETS=(xgboost_json_fuzzer xgboost_ubjson_fuzzer lightgbm_text_fuzzer orchard_json_fuzzer onnx_fuzzer
             load_model_bytes_fuzzer v2_infer_fuzzer invocations_fuzzer csv_reader_fuzzer http_routing_fuzzer
             prediction_block_fuzzer)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")

# -O1 with line tables: fast enough to fuzz, precise enough for stack traces (what no target runs is
# at -O0: ORCHARD_SANITIZER_QUICK_BUILD). Tests on, so that scripts/sanitize.sh asan builds its test
# executables in this same tree: keep the arguments in step with its run_asan, or each would
# reconfigure the other's build. Ninja for a new tree when installed (an existing tree keeps its
# generator).
generator=()
if [ ! -f "$BUILD/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
cmake -S . -B "$BUILD" "${generator[@]}" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
  -DORCHARD_FUZZ=ON -DORCHARD_SANITIZER_QUICK_BUILD=ON -DORCHARD_BUILD_TESTS=ON -DORCHARD_BUILD_BENCH=OFF >/dev/null
locked cmake --build "$BUILD" -j"$JOBS" --target "${TARGETS[@]}"

rm -rf "$BUILD/seeds"
fuzz/seeds.sh "$BUILD/seeds"
rm -rf "$BUILD/tmp" && mkdir -p "$BUILD/tmp"
export TMPDIR="$ROOT/$BUILD/tmp"   # http_routing_fuzzer's registry
# Sanitizer reports stop the target (libFuzzer sets its own handlers on top of these).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

# Runs one target for SECONDS_PER_TARGET; its summary line goes to fuzz-stats.log, and its name to
# $BUILD/failed-targets if it stopped on a finding.
run_target() {
  local target="$1"
  local corpus="$BUILD/corpus/$target" crashes="fuzz/crashes/$target" log="$BUILD/$target.log"
  mkdir -p "$corpus" "$crashes" "$BUILD/seeds/$target"
  local status=0
  # New inputs go to the first directory (the corpus); the seeds are read only.
  "$BUILD/fuzz/$target" "$corpus" "$BUILD/seeds/$target" -max_total_time="$SECONDS_PER_TARGET" \
    -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" >"$log" 2>&1 || status=$?
  local runs speed cov
  runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
  speed="$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)"
  echo "$(date -u +%FT%TZ) $target seconds=$SECONDS_PER_TARGET runs=${runs:-?} exec/s=${speed:-?} ${cov:-} status=$status" | tee -a "$BUILD/fuzz-stats.log"
  if [ "$status" -ne 0 ]; then
    echo "fuzz: $target FAILED (exit $status); the input is in $crashes/, the report in $log:" >&2
    grep -E 'ERROR|SUMMARY|==[0-9]+==|runtime error|terminate|Test unit written' "$log" | head -20 >&2 || true
    echo "$target" >> "$BUILD/failed-targets"
  fi
}

rm -f "$BUILD/failed-targets"
for ((i = 0; i < ${#TARGETS[@]}; i += PARALLEL)); do
  group=("${TARGETS[@]:i:PARALLEL}")
  echo "fuzz: ${group[*]} for ${SECONDS_PER_TARGET}s"
  if [ -n "${FUZZ_LOCK:-}" ]; then exec {lock_fd}>"$FUZZ_LOCK"; flock "$lock_fd"; fi
  for target in "${group[@]}"; do run_target "$target" & done
  wait
  if [ -n "${FUZZ_LOCK:-}" ]; then exec {lock_fd}>&-; fi
done
failed=()
if [ -f "$BUILD/failed-targets" ]; then mapfile -t failed < "$BUILD/failed-targets"; fi
rmdir fuzz/crashes/* 2>/dev/null || true
rmdir fuzz/crashes 2>/dev/null || true
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: no crash in ${#TARGETS[@]} target(s)"
