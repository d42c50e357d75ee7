#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL cluster for the tests (Debian's postgresql package).
#   scripts/test-postgres.sh start   -> prints the connection URL
#   scripts/test-postgres.sh stop
# The cluster lives in $ORCHARD_PG_DIR (default /tmp/orchard-test-pg) on port $ORCHARD_PG_PORT
# (default 55432), listening on loopback only; it runs as the `postgres` user when started by root,
# because PostgreSQL refuses to run as root.
set -euo pipefail
DIR="${ORCHARD_PG_DIR:-/tmp/orchard-test-pg}"
PORT="${ORCHARD_PG_PORT:-55432}"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ -z "$BIN" ]; then
  echo "test-postgres: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
fi
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "${1:-start}" in
  start)
    if [ ! -f "$DIR/PG_VERSION" ]; then
      mkdir -p "$DIR"
      [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DIR"
      as_owner "$BIN/initdb" -D "$DIR" -U orchard --auth=trust -E UTF8 >/dev/null
    fi
    if ! as_owner "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
      as_owner "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    fi
    as_owner "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U orchard -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'orchard_test'" | grep -q 1 ||
      as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U orchard orchard_test
    echo "postgresql://orchard@127.0.0.1:$PORT/orchard_test"
    ;;
  stop)
    as_owner "$BIN/pg_ctl" -D "$DIR" -m fast stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
