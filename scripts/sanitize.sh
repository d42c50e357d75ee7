#!/usr/bin/env bash
# scripts/sanitize.sh [asan|asan-full|tsan|all]: tests under the sanitizers.
#
#   asan       build-hardening/: AddressSanitizer + UndefinedBehaviorSanitizer (and LeakSanitizer) on
#              the tests that feed untrusted input to Orchard (ASAN_TESTS below); what CI runs.
#   asan-full  the same tree, the whole ctest suite (every test executable is built).
#   tsan       build-tsan/: ThreadSanitizer on the server's concurrency tests (hot swap under load,
#              graceful shutdown, slow clients, routing with shadows, prediction-log durability),
#              which run the instrumented `orchard serve` as a child process.
#   all        asan-full, then tsan.
#
# build-hardening/ is one clang tree configured exactly as fuzz/run.sh configures it (-DORCHARD_FUZZ=ON:
# ASan + UBSan + libFuzzer's coverage counters, which cost 10% more compile time and do nothing
# without libFuzzer), so that the fuzz targets and these tests share one build. Both trees are Debug at -O1 with
# line tables (readable stacks), except what -DORCHARD_SANITIZER_QUICK_BUILD compiles at -O0 (the
# tests, the CLI, the HTTP transport: see CMakeLists.txt), which builds them 2.7 times faster.
# Measured cold on 2 cores (empty ccache, Ninja): asan 160 s after fuzz/run.sh has built the tree's
# libraries (2 min to build, 41 s of tests), about 6 min from nothing; tsan 170 s (2.5 min to build,
# 16 s of tests); asan-full runs 686 tests in 3.3 min once built. docs/ci.md has the details.
#
# Every sanitizer writes its reports to BUILD/sanitizer-reports/ (log_path), so that a report from a
# child process is not lost when its test only checks an exit code: the script fails if any report
# was written, and prints them. Known reports in libraries Orchard does not build go in
# scripts/sanitizers/*.supp, each with the reason.
#
# SANITIZE_JOBS: build and test parallelism (default: cores). SANITIZE_LOCK=FILE: hold `flock FILE`
# while building and while running the tests (machines shared with other builds).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
MODE="${1:-all}"
JOBS="${SANITIZE_JOBS:-$(nproc)}"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
SUPP="$ROOT/scripts/sanitizers"

# The tests that feed untrusted input to the product: every test of these executables, or for
# "EXECUTABLE:REGEX" those whose name (SUITE.TEST) matches REGEX.
#   formats_tests           every model loader and format detection, on good, truncated, corrupted files
#   tabular_tests           the CSV reader (RFC 4180 edge cases, damaged input) and column matching
#   tracing_tests           the prediction log's blocks written and read back, ids, the SQL sink
#   server_bad_input_tests  200+ malformed, oversized, hostile and slow requests against the real server
#   server_tests            the Open Inference Protocol v2 and MLflow invocations decoders, end to end
ASAN_TESTS=(formats_tests tabular_tests tracing_tests server_bad_input_tests
            'server_tests:^(KServeV2|Invocations|TritonExtensions)')

locked() {
  if [ -n "${SANITIZE_LOCK:-}" ]; then flock "$SANITIZE_LOCK" "$@"; else "$@"; fi
}

# configure BUILD ARGS...: Ninja for a new tree when it is installed (on 2 cores it built the
# hardening tree, all at -O1, in 7.0 min against make's 8.1: make compiles no object of a target
# before the libraries it links are built); an existing tree keeps the generator it has.
configure() {
  local build="$1"
  shift
  # A tree configured with another compiler (build-tsan/ was gcc's before) is started afresh: CMake
  # would reset its cache itself and silently drop the sanitizer options given here.
  if [ -f "$build/CMakeCache.txt" ] && ! grep -q '^CMAKE_CXX_COMPILER:.*clang++$' "$build/CMakeCache.txt"; then
    echo "sanitize: $build was configured with another compiler than clang++: deleting it"
    rm -rf "$build"
  fi
  local generator=()
  if [ ! -f "$build/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
  cmake -S . -B "$build" "${generator[@]}" "$@" >/dev/null
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

# Prints a ctest -R regex naming exactly the tests of BUILD ($1) that ASAN_TESTS selects, and (on
# stderr) how many each executable contributes. Fails if an entry selects nothing (a renamed
# executable or suite would otherwise drop out of CI silently). Names, not ctest's test numbers:
# ctest numbers the tests that are left after -E, so an exclusion shifted every number after it and
# ran an unbuilt placeholder instead of the test that was meant (CI, 2026-11-27).
select_asan_tests() {
  (cd "$1" && ctest --show-only=json-v1) | python3 -c '
import json, re, sys
specs = [(spec,) + tuple(spec.partition(":")[::2]) for spec in sys.argv[1:]]  # (spec, executable, regex)
counts = {spec: 0 for spec, _, _ in specs}
names = []
for test in json.load(sys.stdin)["tests"]:
    executable = (test.get("command") or [""])[0].rsplit("/", 1)[-1]
    for spec, exe, pattern in specs:
        if exe == executable and re.search(pattern, test["name"]):
            names.append(re.escape(test["name"]))
            counts[spec] += 1
            break
for spec, count in counts.items():
    print(f"sanitize: {count:4d} tests from {spec}", file=sys.stderr)
missing = [spec for spec, count in counts.items() if count == 0]
if missing:
    sys.exit("sanitize: no test selected by " + ", ".join(missing))
print("^(" + "|".join(names) + ")$")
' "${ASAN_TESTS[@]}"
}

# run_asan [full]
run_asan() {
  local build=build-hardening scope="${1:-untrusted}"
  # Keep in step with fuzz/run.sh: the same arguments, or each would reconfigure the other's build.
  configure "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
    -DORCHARD_FUZZ=ON -DORCHARD_SANITIZER_QUICK_BUILD=ON -DORCHARD_BUILD_TESTS=ON -DORCHARD_BUILD_BENCH=OFF
  local targets=() selection=()
  if [ "$scope" = full ]; then
    locked cmake --build "$build" -j"$JOBS"
  else
    for spec in "${ASAN_TESTS[@]}"; do targets+=("${spec%%:*}"); done
    locked cmake --build "$build" -j"$JOBS" --target orchard "${targets[@]}"
    local names
    names="$(select_asan_tests "$build")"
    selection=(-R "$names")
  fi
  local reports="$ROOT/$build/sanitizer-reports"
  rm -rf "$reports" && mkdir -p "$reports"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$reports/asan:suppressions=$SUPP/asan.supp"
  export LSAN_OPTIONS="suppressions=$SUPP/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan:suppressions=$SUPP/ubsan.supp"
  # Excluded: ui_browser_test drives chromium through node for minutes; the server code it reaches
  # is the same as the server tests', which run here.
  local status=0
  (cd "$build" && locked ctest --output-on-failure -j"$JOBS" --timeout 900 "${selection[@]}" -E '^ui_browser_test$') || status=$?
  check_reports "$reports" "AddressSanitizer/UndefinedBehaviorSanitizer" || status=1
  unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
  return $status
}

run_tsan() {
  local build=build-tsan
  configure "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
    -DORCHARD_SANITIZER_QUICK_BUILD=ON -DORCHARD_BUILD_BENCH=OFF
  locked cmake --build "$build" -j"$JOBS" --target orchard server_tests
  local reports="$ROOT/$build/sanitizer-reports"
  rm -rf "$reports" && mkdir -p "$reports"
  export TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:log_path=$reports/tsan:suppressions=$SUPP/tsan.supp"
  # The server's concurrency tests only: the rest of the suite is single-threaded or covered by asan.
  local status=0
  (cd "$build" && locked ctest --output-on-failure -j"$JOBS" --timeout 900 \
     -R '^(HotSwapTest|ShutdownTest|SlowClientTest|RoutingTest|TraceDurability)\.') || status=$?
  check_reports "$reports" "ThreadSanitizer" || status=1
  unset TSAN_OPTIONS
  return $status
}

case "$MODE" in
  asan|asan-full|tsan|all) ;;
  *) echo "usage: scripts/sanitize.sh [asan|asan-full|tsan|all]" >&2; exit 2 ;;
esac
start_postgres
status=0
case "$MODE" in
  asan) run_asan || status=1 ;;
  asan-full) run_asan full || status=1 ;;
  tsan) run_tsan || status=1 ;;
  all) run_asan full || status=1; run_tsan || status=1 ;;
esac
exit $status
