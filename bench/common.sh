# Shared setup of the server benchmarks (bench/load.sh, bench/trace_cost.sh); sourced, not run.
# They serve the same fixture model, post the same request bodies with wrk, and wait the same way for
# a server to come up.
#
# bench_setup NAME: checks the build, the fixtures and wrk (messages name the benchmark), sets
# ORCHARD, MODEL, DATA and WORK (a temporary folder the caller removes).
bench_setup() {
  local name="$1"
  ORCHARD=build/src/orchard
  local fixtures="${ORCHARD_FIXTURES:-../shared/fixtures}"
  MODEL="$fixtures/models/xgboost/binary_breast_cancer.json"
  DATA="$fixtures/data/breast_cancer_test.csv"
  [ -x "$ORCHARD" ] || { echo "$name: $ORCHARD not found: build first (scripts/build.sh)" >&2; exit 1; }
  [ -f "$MODEL" ] || { echo "$name: fixture model $MODEL not found (set ORCHARD_FIXTURES)" >&2; exit 1; }
  command -v wrk >/dev/null || { echo "$name: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
  WORK="$(mktemp -d)"
}

# write_bodies N...: for each N, the first N rows of the test set (label column dropped) as an Open
# Inference Protocol v2 body ($WORK/orchard-N.json) and as the baseline's {"inputs": rows}
# ($WORK/baseline-N.json), each with a wrk script that posts it ($WORK/WHO-N.lua).
write_bodies() {
  python3 - "$DATA" "$WORK" "$@" <<'PY'
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1])))
header, data = rows[0], rows[1:]
keep = [i for i, name in enumerate(header) if name != "target"]
def row(r): return [float(r[i]) if r[i] != "" else None for i in keep]
for n in map(int, sys.argv[3:]):
    batch = [row(r) for r in data[:n]]
    json.dump({"inputs": [{"name": "input-0", "shape": [n, len(keep)], "datatype": "FP64", "data": batch}]}, open(f"{sys.argv[2]}/orchard-{n}.json", "w"))
    json.dump({"inputs": batch}, open(f"{sys.argv[2]}/baseline-{n}.json", "w"))
PY
  local who n
  for who in orchard baseline; do
    for n in "$@"; do
      cat > "$WORK/$who-$n.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$WORK/$who-$n.json"); wrk.body = f:read("*a"); f:close()
LUA
    done
  done
}

# wait_ready URL...: waits up to 20 s for every URL to answer 2xx; fails with a message if one does not.
wait_ready() {
  local url
  for url in "$@"; do
    for _ in $(seq 100); do curl -sf "$url" >/dev/null 2>&1 && continue 2; sleep 0.2; done
    echo "bench: $url did not answer within 20 s" >&2
    return 1
  done
}
