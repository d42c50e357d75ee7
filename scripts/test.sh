#!/usr/bin/env bash
# Builds and runs the whole test suite. Parity tests read ../shared/fixtures (or $ORCHARD_FIXTURES)
# when present; the demo models in examples/ are always checked.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 600
