# Starts PostgreSQL and Redis on loopback ports of their own, without systemd, under one folder,
# and exports where they are for the tests. Sourced by scripts/test.sh, deploy/cluster.sh and bench/run.sh.
SERVICES_DIR=${SERVICES_DIR:-/tmp/signalstream-services}
PG_PORT=${PG_PORT:-5433}
REDIS_PORT=${REDIS_PORT:-6390}
# Tests need no durability (fsync=off); the benchmark measures it (PG_FSYNC=on; synchronous_commit is on by default).
PG_FSYNC=${PG_FSYNC:-off}
PGBIN=/usr/lib/postgresql/15/bin

services_start() {
  services_stop >/dev/null 2>&1 || true
  rm -rf "$SERVICES_DIR"; mkdir -p "$SERVICES_DIR"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
    --dir "$SERVICES_DIR" --pidfile "$SERVICES_DIR/redis.pid" --logfile "$SERVICES_DIR/redis.log"
  install -d -o postgres -g postgres "$SERVICES_DIR/pgdata" "$SERVICES_DIR/pgsock" "$SERVICES_DIR/pglog"
  su postgres -c "$PGBIN/initdb -D $SERVICES_DIR/pgdata -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync" >"$SERVICES_DIR/initdb.log"
  su postgres -c "$PGBIN/pg_ctl -D $SERVICES_DIR/pgdata -l $SERVICES_DIR/pglog/pg.log -w -o '-p $PG_PORT -k $SERVICES_DIR/pgsock -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=$PG_FSYNC' start" >/dev/null
  export SIGNALSTREAM_TEST_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
  export SIGNALSTREAM_TEST_REDIS="127.0.0.1:$REDIS_PORT"
  echo "==> PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT"
}

services_stop() {
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  [ -d "$SERVICES_DIR/pgdata" ] && su postgres -c "$PGBIN/pg_ctl -D $SERVICES_DIR/pgdata -m immediate -w stop" >/dev/null 2>&1 || true
}
