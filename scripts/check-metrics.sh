#!/usr/bin/env bash
# Issue 16: what /metrics exposes passes `promtool check metrics` without a word, and the alert rules pass
# `promtool check rules`. Starts the built server (scripts/test.sh builds it) on a free loopback port with storage of
# its own, gives it traffic (a socket receiving signals, refusals, a client gone without a close), scrapes it, stops it.
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
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
ADMIN=check-metrics-admin-key-0123456789
PUBLISHER=check-metrics-publisher-key-0123456789
SERVER=""; SOCKET=""
cleanup() {
  [ -n "$SOCKET" ] && kill "$SOCKET" 2>/dev/null || true
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

dotnet "$DLL" --urls "$BASE" --Data:Directory="$WORK/data" --Auth:AdminApiKey=$ADMIN --Auth:PublisherApiKey=$PUBLISHER \
  --Demo:SeedUsers=false >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 300); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$BASE/healthz" >/dev/null || { cat "$WORK/server.log"; exit 1; }

echo "==> traffic: a user, a socket, signals, refusals"
curl -sf -o /dev/null -X POST "$BASE/api/admin/users" -H "X-API-Key: $ADMIN" -H 'content-type: application/json' \
  -d '{"username":"metrics-check","password":"correct horse battery","tier":"PROFESSIONAL"}'
TOKEN=$(curl -sf -X POST "$BASE/api/auth/token" -H 'content-type: application/json' \
  -d '{"username":"metrics-check","password":"correct horse battery"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
# A raw WebSocket upgrade: curl prints the frames it receives until it is killed (an abort, not a close).
curl -s -N --http1.1 -o "$WORK/socket.out" -H "Authorization: Bearer $TOKEN" -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
  -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$BASE/ws/signals" &
SOCKET=$!
for _ in $(seq 100); do grep -aq welcome "$WORK/socket.out" 2>/dev/null && break; sleep 0.1; done
for i in $(seq 20); do
  curl -sf -o /dev/null -X POST "$BASE/api/v1/external-signals/sync/signal" -H "X-API-Key: $PUBLISHER" -H 'content-type: application/json' \
    -d "{\"external_id\":\"check-$i\",\"source\":\"check\",\"symbol\":\"BTC-USD\",\"side\":\"BUY\",\"entry_price\":100,\"stop_loss\":90,\"take_profit\":120}"
done
curl -s -o /dev/null -X POST "$BASE/api/v1/external-signals/sync/signal" -H "X-API-Key: $PUBLISHER" -H 'content-type: application/json' -d '{}'
curl -s -o /dev/null "$BASE/ws/signals"                       # 401 without credentials
for _ in $(seq 100); do [ "$(grep -ao '"type":"signal"' "$WORK/socket.out" | wc -l)" -ge 20 ] && break; sleep 0.1; done
kill "$SOCKET" 2>/dev/null || true; wait "$SOCKET" 2>/dev/null || true; SOCKET=""

echo "==> promtool check metrics on $BASE/metrics"
curl -sf "$BASE/metrics" >"$WORK/metrics.txt"
grep -q '^signalstream_delivery_latency_seconds_count [1-9]' "$WORK/metrics.txt" || { echo "no delivery was measured"; exit 1; }
if grep -qi msquic "$WORK/metrics.txt"; then echo "msquic series in /metrics"; exit 1; fi
LINT=$(promtool check metrics <"$WORK/metrics.txt" 2>&1) || true
if [ -n "$LINT" ]; then
  echo "$LINT"
  exit 1
fi
echo "==> /metrics: $(grep -c '^# TYPE' "$WORK/metrics.txt") metric families, promtool silent"
