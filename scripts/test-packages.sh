#!/usr/bin/env bash
# The .NET packages as a user meets them: packs SignalStream.Protocol, SignalStream.Client and the
# SignalStream.Cli tool into a local folder feed; creates a fresh console project outside the repository
# that installs SignalStream.Client from that feed (third-party dependencies from the usual NuGet source)
# and receives a signal from a live server; installs the tool with `dotnet tool install --tool-path` from
# the same feed and runs `signalstream --version` and `signalstream tail --max 1` against the server.
# Expects the server built (`dotnet build SignalStream.slnx -c Release`, as scripts/test.sh does).
# Cleans up (server, temp folders) on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
started=$SECONDS

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "test-packages: $*" >&2; [ -f "$WORK/server.log" ] && tail -n 20 "$WORK/server.log" >&2; exit 1; }

FEED=$WORK/feed
# A package cache of its own: what is restored here comes from the feed, never from an earlier build's cache.
export NUGET_PACKAGES=$WORK/packages

echo "==> packing into a local feed"
# Packing the tool builds it and the libraries it references (again if needed, so the assemblies carry the
# version of the commit they are packed at); the libraries are then packed from that build.
dotnet pack src/SignalStream.Cli -c Release -nologo -v q -o "$FEED"
dotnet pack src/SignalStream.Client -c Release -nologo -v q --no-build -o "$FEED"
dotnet pack src/SignalStream.Protocol -c Release -nologo -v q --no-build -o "$FEED"
for id in SignalStream.Protocol SignalStream.Client SignalStream.Cli; do
  ls "$FEED/$id".*.nupkg >/dev/null 2>&1 || fail "no $id package"
  ls "$FEED/$id".*.snupkg >/dev/null 2>&1 || fail "no $id symbols package"
done
nupkg=$(ls "$FEED"/SignalStream.Client.*.nupkg | grep -v snupkg)
VERSION=$(basename "$nupkg" .nupkg); VERSION=${VERSION#SignalStream.Client.}
echo "    version $VERSION"

echo "==> starting the server"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
ADMIN_KEY=admin-$(openssl rand -hex 16)
PUBLISHER_KEY=publisher-$(openssl rand -hex 16)
ASPNETCORE_ENVIRONMENT=Production dotnet src/SignalStream.Server/bin/Release/net10.0/SignalStream.Server.dll \
  --urls="$URL" --Data:Directory="$WORK/data" --Auth:AdminApiKey="$ADMIN_KEY" \
  --Auth:PublisherApiKey="$PUBLISHER_KEY" --Auth:SigningKey="$(openssl rand -hex 32)" \
  --Demo:Enabled=false --Logging:LogLevel:Default=Warning >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
  curl -fs "$URL/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited"
  sleep 0.2
done
curl -fs "$URL/healthz" >/dev/null || fail "the server did not come up within 60 s"

curl -fsS -X POST "$URL/api/admin/users" -H "X-API-Key: $ADMIN_KEY" -H 'Content-Type: application/json' \
  -d '{"username":"package-user","password":"package-password","tier":"STARTER"}' >/dev/null
EXTERNAL_ID=packages-$(openssl rand -hex 6)
curl -fsS -X POST "$URL/api/v1/external-signals/sync/signal" -H "X-API-Key: $PUBLISHER_KEY" -H 'Content-Type: application/json' \
  -d '{"external_id":"'"$EXTERNAL_ID"'","source":"packages","symbol":"PKG-USD","side":"BUY","entry_price":100.5,"stop_loss":99,"take_profit":104}' >/dev/null

# SignalStream packages from the feed only; everything else from the usual NuGet source.
cat >"$WORK/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$FEED" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local"><package pattern="SignalStream.*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
XML

echo "==> a fresh console project with SignalStream.Client $VERSION"
APP=$WORK/consumer
dotnet new console -o "$APP" -n Consumer --framework net10.0 >/dev/null
cp "$WORK/nuget.config" "$APP/"
dotnet add "$APP" package SignalStream.Client --version "$VERSION" >/dev/null
cat >"$APP/Program.cs" <<'CS'
using SignalStream.Client;

// Receives the signal published before it started (replayed after seq 0), or fails within 60 s.
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
var options = new SignalStreamClientOptions
{
    ServerUri = new Uri(args[0]),
    Username = "package-user",
    Password = "package-password",
    AfterSeq = 0,
};
await using var client = new SignalStreamClient(options);
await client.StartAsync(timeout.Token);
await foreach (var signal in client.ReadAllAsync(timeout.Token))
{
    if (signal.ExternalId != args[1])
        continue;
    Console.WriteLine($"received {signal.ExternalId} {signal.Symbol} {signal.Side} seq {signal.Seq}");
    return 0;
}
return 1;
CS
received=$(dotnet run --project "$APP" -c Release -- "$URL" "$EXTERNAL_ID") || fail "the consumer failed: $received"
echo "    $received"
[[ $received == "received $EXTERNAL_ID PKG-USD BUY"* ]] || fail "the consumer did not receive the signal"

echo "==> the signalstream tool from the feed"
dotnet tool install SignalStream.Cli --version "$VERSION" --tool-path "$WORK/tools" --configfile "$WORK/nuget.config" >/dev/null
version=$("$WORK/tools/signalstream" --version)
echo "    signalstream --version: $version"
[[ $version == "$VERSION"* ]] || fail "signalstream --version printed '$version', expected $VERSION"
tail_out=$(SIGNALSTREAM_URL=$URL SIGNALSTREAM_USERNAME=package-user SIGNALSTREAM_PASSWORD=package-password \
  timeout 60 "$WORK/tools/signalstream" tail --max 1 --after-seq 0 --symbols PKG-USD 2>"$WORK/tail.err") || fail "tail failed: $(cat "$WORK/tail.err")"
echo "$tail_out" | sed 's/^/    /'
[[ $tail_out == *PKG-USD*BUY*100.5* ]] || fail "tail did not show the signal"

echo "==> packages install and work ($((SECONDS - started)) s)"
