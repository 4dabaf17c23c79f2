#!/usr/bin/env bash
# One command for the benchmarks: builds Release, then runs the load generator, which starts each
# server as a child process, measures, stops it, and writes bench/results/<timestamp>-<mode>.json,
# bench/results/latest.svg, bench/results/latest.md and docs/benchmarks.md.
#
#   bench/run.sh quick            # under two minutes once built
#   bench/run.sh full             # fanout 3 000 @20/s and 10 000 @10/s (x3 each), idle 10 000, storm 10 000, slow, ramp
#   bench/run.sh <scenario> ...   # any generator command, e.g. fanout --clients 3000 --rate 20 --seconds 15
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-quick}"; shift || true

if [[ "${BENCH_SKIP_BUILD:-}" != "1" ]]; then
  echo "building Release (server, baselines, generator)…"
  dotnet build bench/Bench.slnx -c Release -p:SkipDashboard=true -nologo -v:q -clp:ErrorsOnly >/dev/null
fi

# Run the generator from a copy: a rebuild during a long run then changes nothing (the servers are copied too).
snapshot="$(mktemp -d /tmp/signalstream-bench-bin.XXXXXX)"
trap 'rm -rf "$snapshot"' EXIT
cp -r bench/SignalStream.Bench/bin/Release/net10.0 "$snapshot/"
bench="$snapshot/net10.0/SignalStream.Bench.dll"
case "$mode" in
  quick|full) args=(suite "$mode" --docs docs/benchmarks.md) ;;
  *) args=("$mode") ;;
esac
dotnet "$bench" "${args[@]}" "$@" --command-line "bench/run.sh $mode${*:+ $*}"
