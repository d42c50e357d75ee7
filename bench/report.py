#!/usr/bin/env python3
"""Turns orchard_bench's JSON output into the tables of docs/performance.md.

    build/bench/orchard_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
        --benchmark_format=json > bench.json
    python3 bench/report.py bench.json
"""
import json
import sys


def main(path):
    data = json.load(open(path))
    medians = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"].replace("/min_time:0.300", "").replace("/real_time", "")
        medians[name] = b
    models = []
    for name in medians:
        parts = name.split("/")
        model = "/".join(parts[2:4])
        if model not in models:
            models.append(model)

    print("### Single row (one call, one thread; median and 99th percentile of per-call time)\n")
    print("| model | Orchard p50 µs | Orchard p99 µs | libxgboost p50 µs | speed-up (p50) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for model in models:
        ours = medians.get(f"single/orchard/{model}")
        theirs = medians.get(f"single/libxgboost/{model}")
        if not ours:
            continue
        row = f"| {model} | {ours['p50_us']:.2f} | {ours['p99_us']:.2f} |"
        if theirs:
            row += f" {theirs['p50_us']:.2f} | {theirs['p50_us'] / ours['p50_us']:.1f}× |"
        else:
            row += " – | – |"
        print(row)

    print("\n### Batch (the fixture's whole test set per call; rows per second)\n")
    print("| model | Orchard 1 thread | Orchard 2 threads | libxgboost 1 thread | libxgboost 2 threads | ratio at 2 threads |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for model in models:
        values = {}
        for engine in ("orchard", "libxgboost"):
            for threads in (1, 2):
                b = medians.get(f"batch/{engine}/{model}/threads:{threads}")
                values[(engine, threads)] = b["rows_per_s"] if b else None
        if values[("orchard", 1)] is None:
            continue
        fmt = lambda v: f"{v / 1e3:,.0f} k" if v else "–"
        ratio = (f"{values[('orchard', 2)] / values[('libxgboost', 2)]:.1f}×" if values[("libxgboost", 2)] else "–")
        print(f"| {model} | {fmt(values[('orchard', 1)])} | {fmt(values[('orchard', 2)])} | "
              f"{fmt(values[('libxgboost', 1)])} | {fmt(values[('libxgboost', 2)])} | {ratio} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench.json")
