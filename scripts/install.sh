#!/usr/bin/env bash
# First five minutes: install what is missing, build, then start Orchard on its embedded default
# (SQLite registry in ./orchard-data) with demo models, on http://127.0.0.1:8080. Ctrl-C stops it.
# PORT=9000 scripts/install.sh to use another port.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh orchard
PORT="${PORT:-8080}"
echo
echo "== orchard predict examples/churn/churn_lightgbm.txt examples/churn/customers.csv (first 3 of 100 rows)"
build/src/orchard predict examples/churn/churn_lightgbm.txt examples/churn/customers.csv | head -4
cat <<EOT

== starting: build/src/orchard serve --demo --data ./orchard-data --port $PORT
Try, from another terminal:
  curl -s localhost:$PORT/v2/models/churn
  curl -s localhost:$PORT/v2/models/churn/infer -d '{"inputs": [{"name": "input-0", "shape": [1, 6], "datatype": "FP64", "data": [56, 9.67, 103.9, 4, 0, 1]}]}'
  curl -s localhost:$PORT/endpoints/iris/invocations -H 'content-type: application/json' -d '{"instances": [[5.1, 3.5, 1.4, 0.2]]}'
  build/src/orchard models --server http://127.0.0.1:$PORT
  build/src/orchard evaluate churn examples/churn/customers.csv --label target --server http://127.0.0.1:$PORT
EOT
exec build/src/orchard serve --demo --data ./orchard-data --port "$PORT"
