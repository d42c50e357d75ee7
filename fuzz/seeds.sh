#!/usr/bin/env bash
# fuzz/seeds.sh DIR: writes the seed corpus of every fuzz target into DIR/<target>/, from the
# fixtures (../shared/fixtures or $ORCHARD_FIXTURES: model files up to 64 KB, heads of the CSV
# files), examples/, docs/model-format.md and a few requests written here. Nothing is committed: the
# seeds are rebuilt from what the repository and the fixtures hold.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="$1"
FIXTURES="${ORCHARD_FIXTURES:-$(pwd)/../shared/fixtures}"
MAX_SEED=65536

seed_dir() { mkdir -p "$OUT/$1"; echo "$OUT/$1"; }
# copy TARGET FILE...: files small enough to mutate quickly
copy() {
  local target="$1"; shift
  local dir; dir="$(seed_dir "$target")"
  for f in "$@"; do
    [ -f "$f" ] || continue
    [ "$(stat -c %s "$f")" -le $MAX_SEED ] || continue
    cp "$f" "$dir/$(basename "$(dirname "$f")")-$(basename "$f")"
  done
}
# text TARGET NAME CONTENT
text() { printf '%s' "$3" > "$(seed_dir "$1")/$2"; }

shopt -s nullglob
XGB_JSON=("$FIXTURES"/models/xgboost/*.json examples/iris/*.json)
XGB_UBJ=("$FIXTURES"/models/xgboost/*.ubj examples/churn/*.ubj)
LGBM=("$FIXTURES"/models/lightgbm/*.txt examples/churn/churn_lightgbm.txt)
ONNX=("$FIXTURES"/models/onnx/*.onnx)
copy xgboost_json_fuzzer "${XGB_JSON[@]}"
copy xgboost_ubjson_fuzzer "${XGB_UBJ[@]}"
copy lightgbm_text_fuzzer "${LGBM[@]}"
copy onnx_fuzzer "${ONNX[@]}"
copy load_model_bytes_fuzzer "${XGB_JSON[@]}" "${XGB_UBJ[@]}" "${LGBM[@]}" "${ONNX[@]}"
# Small inputs mutate fastest: the iris XGBoost model cut to its first round (one tree per class).
python3 - "$OUT" <<'PY' || true
import json, sys
model = json.load(open("examples/iris/iris_xgboost.json"))
booster = model["learner"]["gradient_booster"]["model"]
booster["trees"] = booster["trees"][:3]
booster["tree_info"] = booster["tree_info"][:3]
booster["gbtree_model_param"]["num_trees"] = "3"
for target in ("xgboost_json_fuzzer", "load_model_bytes_fuzzer"):
    json.dump(model, open(f"{sys.argv[1]}/{target}/iris-3-trees.json", "w"), separators=(",", ":"))
PY

# Orchard's format: the complete example of docs/model-format.md, and a one-leaf model.
ORCHARD_EXAMPLE="$(awk '/^```json/{on=1; next} /^```/{on=0} on' docs/model-format.md)"
ORCHARD_SMALL='{"format":"orchard-model","version":1,"features":[{"name":"x","type":"numeric"}],"num_outputs":1,"base_margin":[0],"transform":{"kind":"identity"},"trees":[{"left":[1,-1,-1],"right":[2,-1,-1],"feature":[0,-1,-1],"threshold":[0.5,0,0],"leaf_value":[null,-1,1]}]}'
for t in orchard_json_fuzzer load_model_bytes_fuzzer; do
  text $t example.json "$ORCHARD_EXAMPLE"
  text $t small.json "$ORCHARD_SMALL"
done
text load_model_bytes_fuzzer mlflow-bundle.txt $'ORCHARD-MLFLOW-BUNDLE 1\nflavor=xgboost model=model.json\n'

# v2 requests for the churn model (features age, tenure, monthly_charges, plan, region,
# support_calls) and, after a line "iris", the iris model (4 features).
text v2_infer_fuzzer matrix.json '{"id":"a","inputs":[{"name":"input-0","datatype":"FP64","shape":[2,6],"data":[[34,12,70.5,1,2,0],[null,3,20,0,1,5]]}]}'
text v2_infer_fuzzer columns.json '{"inputs":[{"name":"age","datatype":"INT32","shape":[1],"data":[34]},{"name":"tenure","datatype":"FP32","shape":[1],"data":[3]},{"name":"monthly_charges","datatype":"FP64","shape":[1,1],"data":[[70.5]]},{"name":"plan","datatype":"BYTES","shape":[1],"data":["premium"]},{"name":"region","datatype":"BYTES","shape":[1],"data":[null]},{"name":"support_calls","datatype":"BOOL","shape":[1],"data":[true]}],"parameters":{"raw":true}}'
text v2_infer_fuzzer iris.json $'iris\n''{"inputs":[{"name":"input-0","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}],"outputs":[{"name":"x","parameters":{"binary_data":true}}]}'
BINARY_JSON='{"inputs":[{"name":"input-0","datatype":"FP64","shape":[1,4],"parameters":{"binary_data_size":32}}]}'
printf 'iris\n#%d\n%s' ${#BINARY_JSON} "$BINARY_JSON" > "$OUT/v2_infer_fuzzer/binary-prefix"
printf '\x01\x00\x00\x00\x00\x00\xf0\x3f\x00\x00\x00\x00\x00\x00\x00\x40\x00\x00\x00\x00\x00\x00\x08\x40\x00\x00\x00\x00\x00\x00\x10\x40' >> "$OUT/v2_infer_fuzzer/binary-prefix"

# MLflow invocations for the churn model; "csv\n" first sends text/csv.
text invocations_fuzzer split.json '{"dataframe_split":{"columns":["age","tenure","monthly_charges","plan","region","support_calls"],"data":[[34,12,70.5,"premium","north",0]]}}'
text invocations_fuzzer records.json '{"dataframe_records":[{"age":34,"tenure":12,"monthly_charges":70.5,"plan":"basic","region":null,"support_calls":"2"}]}'
text invocations_fuzzer instances.json '{"instances":[[34,12,70.5,1,2,0],{"age":1,"tenure":2,"monthly_charges":3,"plan":0,"region":1,"support_calls":4}]}'
text invocations_fuzzer inputs.json '{"inputs":{"age":[34,40],"tenure":[12,1],"monthly_charges":[70.5,null],"plan":[0,1],"region":[1,2],"support_calls":[0,true]},"params":{"user":"u1"}}'
{ printf 'csv\n'; head -c 2000 examples/churn/customers.csv; } > "$OUT/invocations_fuzzer/customers.csv"

# CSV files: the heads of the examples and of the fixtures' data.
for f in examples/churn/customers.csv examples/iris/flowers.csv "$FIXTURES"/data/*.csv; do
  head -c 4000 "$f" > "$(seed_dir csv_reader_fuzzer)/$(basename "$f")"
done
text csv_reader_fuzzer quoted.csv $'age,"ten""ure",monthly_charges,plan,region,support_calls,target\r\n1,"2",3,premium,,NaN,1\n\n4,5,6,basic,"north",7,0\n'

# HTTP requests: METHOD TARGET, header lines, an empty line, the body.
H=http_routing_fuzzer
text $H v2-infer.txt $'POST /v2/models/churn/infer\ncontent-type: application/json\n\n{"inputs":[{"name":"input-0","datatype":"FP64","shape":[1,6],"data":[34,12,70.5,1,2,0]}]}'
text $H v2-infer-version.txt $'POST /v2/models/iris/versions/1/infer\ncontent-type: application/json\nx-request-id: r1\n\n{"inputs":[{"name":"input-0","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]}'
text $H v2-binary.txt $'POST /v2/models/iris/infer\ninference-header-content-length: 82\n\n{"inputs":[{"name":"input-0","datatype":"FP32","shape":[1,4],"parameters":{"binary_data_size":16}}]}0123456789abcdef'
text $H v2-metadata.txt $'GET /v2/models/churn/versions/2'
text $H v2-ready.txt $'GET /v2/models/churn/ready'
text $H v2-stats.txt $'GET /v2/models/iris/stats'
text $H v2-health.txt $'GET /v2/health/ready'
text $H invocations.txt $'POST /endpoints/churn/invocations\ncontent-type: application/json\n\n{"dataframe_records":[{"age":34,"tenure":12,"monthly_charges":70.5,"plan":"basic","region":"north","support_calls":2}]}'
text $H invocations-csv.txt "$(printf 'POST /endpoints/churn/invocations\ncontent-type: text/csv\n\n'; head -c 1000 examples/churn/customers.csv)"
text $H models.txt $'GET /api/v1/models?limit=10'
text $H versions.txt $'GET /api/v1/models/churn/versions/1'
text $H aliases.txt $'GET /api/v1/models/churn/aliases'
text $H openapi.txt $'GET /api/v1/openapi.json'
text $H audit.txt $'GET /api/v1/audit?model=churn'
text $H metrics.txt $'GET /metrics'
text $H ui.txt $'GET /ui/index.html'
text $H health.txt $'GET /health'

# Prediction-log blocks (tracing/prediction_block.h): u32 size of the ids, the ids, then the data;
# two rows of two features and one output, with texts.
python3 - "$(seed_dir prediction_block_fuzzer)" <<'PY'
import struct, sys
ids = bytes(range(16)) + bytes(range(1, 17))
texts = [(b"req-1", b"", b"10.0.0.1"), (b"", b"00-ab-cd-01", b"key:ci")]
data = struct.pack("<6I", 0x3142524F, 2, 2, 1, 0, 0)        # magic, rows, features, width, flags, zero
data += struct.pack("<4d", 1.5, float("nan"), 3.0, 4.25)  # inputs
data += struct.pack("<2d", 0.5, 0.75)                     # outputs
data += struct.pack("<2d", 12.0, 12.0)                    # latency
data += bytes([0, 1]) + bytes(6)                          # raw, padded
area, ends = b"", []
for rid, tp, caller in texts:
    area += struct.pack("<2H", len(rid), len(tp)) + rid + tp + caller
    ends.append(len(area))
data += struct.pack("<2I", *ends)                         # text ends (8 bytes: already aligned)
data += area
open(sys.argv[1] + "/two-rows.bin", "wb").write(struct.pack("<I", len(ids)) + ids + data)
PY
