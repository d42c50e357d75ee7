#!/usr/bin/env bash
# scripts/sanitize.sh [asan|tsan|all]: the test suite under the sanitizers, each in its own build
# folder (ccache makes rebuilds cheap; Debug at -O1 with line tables: quick to build, readable stacks).
#
#   asan  build-asan/: AddressSanitizer + UndefinedBehaviorSanitizer (and LeakSanitizer), the whole
#         ctest suite, the `orchard` binary the CLI and server tests start included.
#   tsan  build-tsan/: ThreadSanitizer on the server's concurrency tests (hot swap under load,
#         graceful shutdown, slow clients, routing with shadows, prediction-log durability), which
#         run the instrumented `orchard serve` as a child process.
#
# Every sanitizer writes its reports to BUILD/sanitizer-reports/ (log_path), so that a report from a
# child process is not lost when its test only checks an exit code: the script fails if any report
# was written, and prints them. Known reports in libraries Orchard does not build go in
# scripts/sanitizers/*.supp, each with the reason.
#
# SANITIZE_JOBS: build and test parallelism (default: cores). SANITIZE_LOCK=FILE: hold `flock FILE`
# while building (machines shared with other builds).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
MODE="${1:-all}"
JOBS="${SANITIZE_JOBS:-$(nproc)}"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
SUPP="$ROOT/scripts/sanitizers"

locked() {
  if [ -n "${SANITIZE_LOCK:-}" ]; then flock "$SANITIZE_LOCK" "$@"; else "$@"; fi
}

# Fails (and prints them) if the sanitizers wrote any report under $1.
check_reports() {
  local dir="$1" name="$2"
  if compgen -G "$dir/*" >/dev/null; then
    echo "sanitize: $name reported problems:" >&2
    for report in "$dir"/*; do echo "---- $report" >&2; head -80 "$report" >&2; done
    return 1
  fi
  echo "sanitize: $name: no reports"
}

start_postgres() {
  # A cluster of its own (not test.sh's), so that both can run at once on one machine.
  if [ -z "${ORCHARD_TEST_POSTGRES:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    export ORCHARD_PG_DIR=/tmp/orchard-sanitize-pg ORCHARD_PG_PORT=55433
    ORCHARD_TEST_POSTGRES="$("$ROOT/scripts/test-postgres.sh" start)"
    export ORCHARD_TEST_POSTGRES
    trap '"$ROOT/scripts/test-postgres.sh" stop' EXIT
  fi
}

run_asan() {
  local build=build-asan
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DORCHARD_SANITIZE=ON -DORCHARD_BUILD_BENCH=OFF >/dev/null
  locked cmake --build "$build" -j"$JOBS"
  local reports="$ROOT/$build/sanitizer-reports"
  rm -rf "$reports" && mkdir -p "$reports"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$reports/asan:suppressions=$SUPP/asan.supp"
  export LSAN_OPTIONS="suppressions=$SUPP/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan:suppressions=$SUPP/ubsan.supp"
  # Excluded: ui_browser_test drives chromium through node for minutes; the server code it reaches
  # is the same as the server tests', which run here.
  local status=0
  (cd "$build" && ctest --output-on-failure -j"$JOBS" --timeout 900 -E '^ui_browser_test$') || status=$?
  check_reports "$reports" "AddressSanitizer/UndefinedBehaviorSanitizer" || status=1
  unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
  return $status
}

run_tsan() {
  local build=build-tsan
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
    -DORCHARD_BUILD_BENCH=OFF >/dev/null
  locked cmake --build "$build" -j"$JOBS" --target orchard server_tests
  local reports="$ROOT/$build/sanitizer-reports"
  rm -rf "$reports" && mkdir -p "$reports"
  export TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:log_path=$reports/tsan:suppressions=$SUPP/tsan.supp"
  # The server's concurrency tests only: the rest of the suite is single-threaded or covered by asan.
  local status=0
  (cd "$build" && ctest --output-on-failure -j"$JOBS" --timeout 900 \
     -R '^(HotSwapTest|ShutdownTest|SlowClientTest|RoutingTest|TraceDurability)\.') || status=$?
  check_reports "$reports" "ThreadSanitizer" || status=1
  unset TSAN_OPTIONS
  return $status
}

start_postgres
status=0
case "$MODE" in
  asan) run_asan || status=1 ;;
  tsan) run_tsan || status=1 ;;
  all) run_asan || status=1; run_tsan || status=1 ;;
  *) echo "usage: scripts/sanitize.sh [asan|tsan|all]" >&2; exit 2 ;;
esac
exit $status
