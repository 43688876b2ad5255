#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the web tests and print its URL.
# Usage: eval "$(bash .ci/postgres.sh start)"   → exports XLPROC_TEST_PG_URL
#        bash .ci/postgres.sh stop
# Runs initdb/pg_ctl as the `postgres` user when invoked as root (PostgreSQL refuses root).
set -euo pipefail
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PGDIR=${XLPROC_PG_DIR:-/tmp/xlproc-pg}
PGPORT=${XLPROC_PG_PORT:-54329}
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "${1:-start}" in
  start)
    if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
      echo "echo 'PostgreSQL binaries not found' >&2"; exit 1
    fi
    if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
      mkdir -p "$PGDIR"
      [ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
      as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; then
      as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    fi
    as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='xlproc_test'" | grep -q 1 \
      || as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres xlproc_test
    echo "export XLPROC_TEST_PG_URL=postgresql://postgres@127.0.0.1:$PGPORT/xlproc_test"
    ;;
  stop)
    as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast stop >/dev/null 2>&1 || true
    ;;
esac
