#!/usr/bin/env bash
# Builds and runs the whole test suite. Parity tests read ../shared/fixtures (or $ORCHARD_FIXTURES)
# when present; the demo models in examples/ are always checked. When PostgreSQL is installed, a
# throwaway cluster is started so that the registry's store tests also run against it
# ($ORCHARD_TEST_POSTGRES overrides with an existing server).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
scripts/build.sh
# The web UI's browser tests need playwright-core from ui/package-lock.json; without npm (or offline)
# ctest reports them as skipped.
if command -v npm >/dev/null 2>&1; then
  (cd ui && npm ci --no-audit --no-fund --loglevel=error) ||
    echo "test.sh: warning: npm ci in ui/ failed (offline?): the browser tests will be skipped" >&2
else
  echo "test.sh: npm is not installed (scripts/install-deps.sh installs it): the browser tests will be skipped" >&2
fi
if [ -z "${ORCHARD_TEST_POSTGRES:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  ORCHARD_TEST_POSTGRES="$("$ROOT/scripts/test-postgres.sh" start)"
  export ORCHARD_TEST_POSTGRES
  trap '"$ROOT/scripts/test-postgres.sh" stop' EXIT
fi
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 600
