#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what is missing (Debian packages, npm modules),
# starts PostgreSQL, Redis and nginx on their own loopback ports without systemd, runs the .NET
# and web test suites, and stops the servers again, whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

need=()
command -v redis-server >/dev/null || need+=(redis-server)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
command -v nginx >/dev/null || need+=(nginx)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"
services_start
trap services_stop EXIT

echo "==> dotnet build"
dotnet build SignalStream.slnx -c Release -nologo -v q

echo "==> dotnet format: the style in .editorconfig"
dotnet format SignalStream.slnx --verify-no-changes

echo "==> .NET tests"
dotnet test SignalStream.slnx -c Release --no-build -nologo --logger "console;verbosity=minimal"

echo "==> .NET packages: install from a local feed into a fresh project and as a tool, against a live server"
"$ROOT/scripts/test-packages.sh"

if [ -f clients/web/package.json ]; then
  echo "==> web: package builds, typecheck, lint, format, unit tests, tarball contents, end-to-end tests in Chromium"
  (cd clients/web && npm ci --no-audit --no-fund && npm run build:packages && npm run typecheck && npm run lint \
    && npm run format:check && npm test && npm run pack:dry && npm run test:e2e)
fi
echo "==> all tests passed"
