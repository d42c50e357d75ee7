#!/usr/bin/env bash
# Load benchmark: Orchard's server against the usual Python way (FastAPI + uvicorn + XGBoost, the
# baseline in ../shared/baselines), same model, same machine, same run, driven by wrk on loopback.
#
#   bench/load.sh [SECONDS_PER_RUN]        (default 10)
#
# Needs: a build (scripts/build.sh), wrk, and for the baseline Debian's python3-fastapi,
# python3-uvicorn, python3-xgboost, plus python3-httptools and python3-uvloop so that uvicorn runs its
# fastest stack. Prints req/s, p50 and p99 per case and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
BASELINE="${ORCHARD_BASELINE:-../shared/baselines/fastapi_xgboost.py}"
source bench/common.sh
bench_setup load
ORCHARD_PORT=18181
BASELINE_PORT=18182
cleanup() { kill "${ORCHARD_PID:-}" "${BASELINE_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
write_bodies 1 100

"$ORCHARD" push bc "$MODEL" --data "$WORK/data" --alias production >/dev/null 2>&1
"$ORCHARD" serve --data "$WORK/data" --port "$ORCHARD_PORT" 2>"$WORK/orchard.log" &
ORCHARD_PID=$!
BASELINE_PID=""
if /usr/bin/python3 -c "import fastapi, uvicorn, xgboost" 2>/dev/null; then
  /usr/bin/python3 "$BASELINE" "$MODEL" "$BASELINE_PORT" 2 2>"$WORK/baseline.log" &
  BASELINE_PID=$!
else
  echo "load: baseline skipped (needs python3-fastapi, python3-uvicorn, python3-xgboost)" >&2
fi
ready=("http://127.0.0.1:$ORCHARD_PORT/v2/health/ready")
[ -z "$BASELINE_PID" ] || ready+=("http://127.0.0.1:$BASELINE_PORT/health")
wait_ready "${ready[@]}"

# One wrk run: prints "req_per_s p50_us p99_us".
measure() {
  local url=$1 script=$2 connections=$3
  wrk -t1 -c"$connections" -d"${DURATION}s" --latency -s "$script" "$url" 2>/dev/null | python3 -c '
import re, sys
text = sys.stdin.read()
def us(v, unit): return float(v) * {"us": 1, "ms": 1e3, "s": 1e6}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p = dict((int(m.group(1)), us(m.group(2), m.group(3))) for m in re.finditer(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{rps:.0f} {p.get(50, 0):.0f} {p.get(99, 0):.0f} {errors.group(1) if errors else 0}")'
}

printf "%-10s %5s %5s %12s %9s %9s %7s\n" server conns rows "req/s" "p50_us" "p99_us" "errors"
declare -A RESULT
for n in 1 100; do
  for c in 1 16; do
    for who in orchard baseline; do
      if [ "$who" = orchard ]; then url="http://127.0.0.1:$ORCHARD_PORT/v2/models/bc/infer"; else
        [ -n "$BASELINE_PID" ] || continue; url="http://127.0.0.1:$BASELINE_PORT/predict"; fi
      read -r rps p50 p99 errors < <(measure "$url" "$WORK/$who-$n.lua" "$c")
      RESULT[$who-$n-$c]="$rps $p50 $p99"
      printf "%-10s %5s %5s %12s %9s %9s %7s\n" "$who" "$c" "$n" "$rps" "$p50" "$p99" "$errors"
    done
  done
done
if [ -n "$BASELINE_PID" ]; then
  echo
  printf "%-16s %14s %14s %14s\n" case "req/s ratio" "p50 ratio" "p99 ratio"
  for n in 1 100; do
    for c in 1 16; do
      read -r orps op50 op99 <<<"${RESULT[orchard-$n-$c]}"
      read -r brps bp50 bp99 <<<"${RESULT[baseline-$n-$c]}"
      python3 -c "print(f'{\"$c conn, $n row\":16s} {$orps/$brps:13.1f}x {$bp50/max($op50,1):13.1f}x {$bp99/max($op99,1):13.1f}x')"
    done
  done
  echo "(ratios: Orchard's req/s over the baseline's; the baseline's latency over Orchard's)"
fi
