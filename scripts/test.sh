#!/usr/bin/env bash
# Builds and runs the whole test suite. Parity tests read ../shared/fixtures (or $ORCHARD_FIXTURES)
# when present; the demo models in examples/ are always checked. When PostgreSQL is installed, a
# throwaway cluster is started so that the registry's store tests also run against it
# ($ORCHARD_TEST_POSTGRES overrides with an existing server).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
scripts/build.sh
if [ -z "${ORCHARD_TEST_POSTGRES:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  ORCHARD_TEST_POSTGRES="$("$ROOT/scripts/test-postgres.sh" start)"
  export ORCHARD_TEST_POSTGRES
  trap '"$ROOT/scripts/test-postgres.sh" stop' EXIT
fi
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 600
