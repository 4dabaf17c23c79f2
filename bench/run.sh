#!/usr/bin/env bash
# One command for the benchmarks: builds Release, then runs the load generator, which starts each
# server as a child process, measures, stops it, and writes bench/results/<timestamp>-<mode>.json,
# bench/results/latest.svg, bench/results/latest.md and docs/benchmarks.md.
#
#   bench/run.sh quick            # about three minutes once built
#   bench/run.sh full             # fanout 3 000 @20/s (also traced) and 10 000 @10/s (x3 each), idle 10 000, storm 10 000,
#                                 # slow, ramp, ingest (SQLite, PostgreSQL, 1 000 subscribers; x3 each)
#   bench/run.sh <scenario> ...   # any generator command, e.g. fanout --clients 3000 --rate 20 --seconds 15
#
# For the PostgreSQL ingest of `full` this script starts PostgreSQL of its own with scripts/services.sh, durable
# (fsync and synchronous_commit on), on 127.0.0.1:$PG_PORT (5451) under $SERVICES_DIR, and stops it at the end;
# `--postgres CONNECTION` uses that database instead.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-quick}"; shift || true

if [[ "${BENCH_SKIP_BUILD:-}" != "1" ]]; then
  echo "building Release (server, baselines, generator)…"
  dotnet build bench/Bench.slnx -c Release -p:SkipDashboard=true -nologo -v:q -clp:ErrorsOnly >/dev/null
fi

# Run the generator from a copy: a rebuild during a long run then changes nothing (the servers are copied too).
snapshot="$(mktemp -d /tmp/signalstream-bench-bin.XXXXXX)"
cleanup() { rm -rf "$snapshot"; }
trap cleanup EXIT
cp -r bench/SignalStream.Bench/bin/Release/net10.0 "$snapshot/"
bench="$snapshot/net10.0/SignalStream.Bench.dll"

# Does this `full` run measure ingest against PostgreSQL without being given a database?
needs_postgres() {
  [[ "$mode" == full ]] || return 1
  local only="ingest-postgres" previous=""
  for a in "$@"; do
    [[ "$a" == --postgres || "$a" == --postgres=* ]] && return 1
    [[ "$previous" == --only ]] && only="$a"
    [[ "$a" == --only=* ]] && only="${a#--only=}"
    previous="$a"
  done
  [[ ",$only," == *,ingest-postgres,* ]]
}
postgres=()
if needs_postgres "$@"; then
  export SERVICES_DIR="${SERVICES_DIR:-/tmp/signalstream-bench-services}" PG_PORT="${PG_PORT:-5451}" REDIS_PORT="${REDIS_PORT:-6391}" PG_FSYNC=on
  # shellcheck source=scripts/services.sh
  source scripts/services.sh
  services_start
  trap 'services_stop; cleanup' EXIT
  postgres=(--postgres "$SIGNALSTREAM_TEST_POSTGRES")
fi

case "$mode" in
  quick|full) args=(suite "$mode" --docs docs/benchmarks.md) ;;
  *) args=("$mode") ;;
esac
dotnet "$bench" "${args[@]}" "$@" "${postgres[@]}" --command-line "bench/run.sh $mode${*:+ $*}"
