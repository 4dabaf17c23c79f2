#!/usr/bin/env bash
# Issue 16: what /metrics exposes passes `promtool check metrics` without a word, and the alert rules pass
# `promtool check rules`. Starts the built server (scripts/test.sh builds it) on a free loopback port with storage of
# its own, gives it traffic (a socket receiving signals, refusals, a client gone without a close), scrapes it, stops it:
# once on SQLite, and once on PostgreSQL (whose driver's meters are bridged too) when SIGNALSTREAM_TEST_POSTGRES is set.
# Installs Debian's prometheus package for promtool if missing; never starts the Prometheus service.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if ! command -v promtool >/dev/null; then
  echo "==> installing prometheus (for promtool)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus
fi

echo "==> promtool check rules deploy/prometheus/alerts.yml"
promtool check rules deploy/prometheus/alerts.yml

DLL=$ROOT/src/SignalStream.Server/bin/Release/net10.0/SignalStream.Server.dll
[ -f "$DLL" ] || dotnet build src/SignalStream.Server/SignalStream.Server.csproj -c Release -nologo -v q
WORK=$(mktemp -d)
ADMIN=check-metrics-admin-key-0123456789
PUBLISHER=check-metrics-publisher-key-0123456789
SERVER=""; SOCKET=""; DATABASE=""
stop_server() {
  [ -n "$SOCKET" ] && kill "$SOCKET" 2>/dev/null || true
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
  SOCKET=""; SERVER=""
}
cleanup() {
  stop_server
  [ -n "$DATABASE" ] && psql_admin "DROP DATABASE IF EXISTS $DATABASE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# SQL as the test cluster's superuser, through its loopback port (SIGNALSTREAM_TEST_POSTGRES names it).
psql_admin() {
  local port; port=$(sed -n 's/.*Port=\([0-9]*\).*/\1/p' <<<"$SIGNALSTREAM_TEST_POSTGRES")
  psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAtc "$1"
}

# check NAME SERVER-ARGS...: a server on that storage, traffic, one scrape through promtool.
check() {
  local name=$1; shift
  local port base token
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  base=http://127.0.0.1:$port
  dotnet "$DLL" --urls "$base" --Auth:AdminApiKey=$ADMIN --Auth:PublisherApiKey=$PUBLISHER "$@" >"$WORK/$name.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 300); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
  curl -sf "$base/healthz" >/dev/null || { cat "$WORK/$name.log"; exit 1; }

  echo "==> $name: traffic (a user, a socket, signals, refusals)"
  curl -sf -o /dev/null -X POST "$base/api/admin/users" -H "X-API-Key: $ADMIN" -H 'content-type: application/json' \
    -d '{"username":"metrics-check","password":"correct horse battery","tier":"PROFESSIONAL"}'
  token=$(curl -sf -X POST "$base/api/auth/token" -H 'content-type: application/json' \
    -d '{"username":"metrics-check","password":"correct horse battery"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  # A raw WebSocket upgrade: curl prints the frames it receives until it is killed (an abort, not a close).
  curl -s -N --http1.1 -o "$WORK/$name.socket" -H "Authorization: Bearer $token" -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
    -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$base/ws/signals" &
  SOCKET=$!
  for _ in $(seq 100); do grep -aq welcome "$WORK/$name.socket" 2>/dev/null && break; sleep 0.1; done
  for i in $(seq 20); do
    curl -sf -o /dev/null -X POST "$base/api/v1/external-signals/sync/signal" -H "X-API-Key: $PUBLISHER" -H 'content-type: application/json' \
      -d "{\"external_id\":\"check-$i\",\"source\":\"check\",\"symbol\":\"BTC-USD\",\"side\":\"BUY\",\"entry_price\":100,\"stop_loss\":90,\"take_profit\":120}"
  done
  curl -s -o /dev/null -X POST "$base/api/v1/external-signals/sync/signal" -H "X-API-Key: $PUBLISHER" -H 'content-type: application/json' -d '{}'
  curl -s -o /dev/null "$base/ws/signals"                       # 401 without credentials
  for _ in $(seq 100); do [ "$(grep -ao '"type":"signal"' "$WORK/$name.socket" | wc -l)" -ge 20 ] && break; sleep 0.1; done
  kill "$SOCKET" 2>/dev/null || true; wait "$SOCKET" 2>/dev/null || true; SOCKET=""

  echo "==> $name: promtool check metrics on $base/metrics"
  curl -sf "$base/metrics" >"$WORK/$name.txt"
  stop_server
  grep -q '^signalstream_delivery_latency_seconds_count [1-9]' "$WORK/$name.txt" || { echo "no delivery was measured"; exit 1; }
  if grep -qi msquic "$WORK/$name.txt"; then echo "msquic series in /metrics"; exit 1; fi
  local lint
  lint=$(promtool check metrics <"$WORK/$name.txt" 2>&1) || true
  if [ -n "$lint" ]; then
    echo "$lint"
    exit 1
  fi
  echo "==> $name: /metrics has $(grep -c '^# TYPE' "$WORK/$name.txt") metric families, promtool silent"
}

check sqlite --Data:Directory="$WORK/data"
if [ -n "${SIGNALSTREAM_TEST_POSTGRES:-}" ]; then
  DATABASE=check_metrics_$$
  psql_admin "CREATE DATABASE $DATABASE"
  check postgresql --Data:Directory="$WORK/pgdata" --Storage:Provider=postgres \
    --Storage:ConnectionString="${SIGNALSTREAM_TEST_POSTGRES/Database=postgres/Database=$DATABASE}"
  grep -q '^db_client_' "$WORK/postgresql.txt" || { echo "no Npgsql series in /metrics"; exit 1; }
fi
