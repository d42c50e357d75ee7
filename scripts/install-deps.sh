#!/usr/bin/env bash
# Installs the Debian 12 packages Orchard needs to build, test and benchmark. Idempotent.
set -euo pipefail

PACKAGES=(
  build-essential cmake ccache pkg-config
  ninja-build          # scripts/sanitize.sh and fuzz/run.sh build their trees with it (13% faster than make)
  nlohmann-json3-dev   # JSON and UBJSON (XGBoost models, registry records)
  libonnx-dev libprotobuf-dev protobuf-compiler   # ONNX-ML models (the onnx-ml protobuf schema)
  libsqlite3-dev libssl-dev libpq-dev   # registry: SQLite and PostgreSQL stores, SHA-256
  postgresql python3-sklearn sqlite3 prometheus   # tests: a throwaway PostgreSQL cluster; scikit-learn as the metrics reference; promtool
  python3-numpy python3-joblib   # python/orchard_export and its round-trip tests (with python3-sklearn)
  libcli11-dev         # command line
  libyaml-cpp-dev      # orchard.yaml metadata for `orchard sync`
  libgtest-dev libgmock-dev   # tests
  libboost-dev libsimdjson-dev   # server: Boost.Beast/Asio HTTP, simdjson request parsing
  libbenchmark-dev libxgboost-dev wrk   # benchmarks (libxgboost is the baseline, linked into bench/ only)
  chromium             # the web UI's browser tests (ui/tests/run.mjs drives /usr/bin/chromium headless)
  clang libclang-rt-dev llvm   # fuzz/run.sh (libFuzzer) and scripts/sanitize.sh; llvm-symbolizer for readable sanitizer stacks
)
# node and npm for the browser tests (npm ci in ui/): Debian's packages, unless a node with npm is
# already installed (e.g. from NodeSource, whose nodejs package conflicts with Debian's npm).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then PACKAGES+=(nodejs npm); fi

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all Debian packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
