#!/usr/bin/env bash
# What the prediction log costs the server: two `orchard serve` on the same model, one with the log
# (async, the default) and one with --no-trace, both warmed up, then driven in alternation by wrk
# (16 connections, 1-row requests, the server benchmark's case). Alternating runs, and medians over
# rounds, keep a noisy machine from favouring either side. Also prints the server's CPU time per
# request and the log writer thread's share of it.
#
#   bench/trace_cost.sh [SECONDS_PER_RUN [ROUNDS]]     (defaults 6 and 7)
#
# Needs a build (scripts/build.sh) and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-6}"
ROUNDS="${2:-7}"
source bench/common.sh
bench_setup trace_cost
PLAIN_PORT=18191
TRACED_PORT=18192
cleanup() { kill "${PLAIN_PID:-}" "${TRACED_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
write_bodies 1

for side in plain traced; do
  "$ORCHARD" push bc "$MODEL" --data "$WORK/$side" --alias production >/dev/null 2>&1
done
"$ORCHARD" serve --data "$WORK/plain" --port "$PLAIN_PORT" --no-trace 2>"$WORK/plain.log" &
PLAIN_PID=$!
"$ORCHARD" serve --data "$WORK/traced" --port "$TRACED_PORT" 2>"$WORK/traced.log" &
TRACED_PID=$!
for port in $PLAIN_PORT $TRACED_PORT; do
  wait_ready "http://127.0.0.1:$port/v2/health/ready"
  wrk -t2 -c16 -d3s -s "$WORK/orchard-1.lua" "http://127.0.0.1:$port/v2/models/bc/infer" >/dev/null  # warm-up
done

ticks() { awk '{print $14 + $15}' "$1"; }
TICK=$(getconf CLK_TCK)
: > "$WORK/runs"
for round in $(seq "$ROUNDS"); do
  for side in plain traced; do
    if [ "$side" = plain ]; then pid=$PLAIN_PID port=$PLAIN_PORT; else pid=$TRACED_PID port=$TRACED_PORT; fi
    before=$(ticks "/proc/$pid/stat")
    n=$(wrk -t2 -c16 -d"${DURATION}s" -s "$WORK/orchard-1.lua" "http://127.0.0.1:$port/v2/models/bc/infer" | awk '/ requests in /{print $1}')
    after=$(ticks "/proc/$pid/stat")
    echo "$side $((n / DURATION)) $(( (after - before) * 1000000 / TICK / n ))" | tee -a "$WORK/runs"
  done
done
median() { awk -v side="$1" -v col="$2" '$1 == side {print $col}' "$WORK/runs" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
plain=$(median plain 2) traced=$(median traced 2)
echo "median req/s: without the log $plain, with it $traced; drop $(awk -v a="$plain" -v b="$traced" 'BEGIN {printf "%.1f", 100 * (a - b) / a}') %"
echo "median server CPU per request: without $(median plain 3) us, with $(median traced 3) us"
# The writer is the traced server's busiest thread after the I/O threads; show every thread's ticks.
echo "traced server threads (CPU ticks): $(for t in /proc/$TRACED_PID/task/*; do printf '%s ' "$(ticks "$t/stat")"; done)"
