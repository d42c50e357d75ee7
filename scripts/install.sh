#!/usr/bin/env bash
# First five minutes: install what is missing, build, and score the demo customers with the demo
# churn model. Afterwards `build/src/orchard --help` shows everything Orchard can do.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
echo
echo "== orchard inspect examples/churn/churn_lightgbm.txt"
build/src/orchard inspect examples/churn/churn_lightgbm.txt
echo
echo "== orchard predict examples/churn/churn_lightgbm.txt examples/churn/customers.csv (first 5 of 100 rows)"
build/src/orchard predict examples/churn/churn_lightgbm.txt examples/churn/customers.csv -o build/churn_predictions.csv
head -6 build/churn_predictions.csv
echo "... all 100 predictions are in build/churn_predictions.csv"
