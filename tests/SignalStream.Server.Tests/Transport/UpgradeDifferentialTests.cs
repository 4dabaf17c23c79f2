using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SignalStream.Server.Tests.Transport;

/// <summary>
/// SECURITY.md, "an upgrade head the HTTP standards say to refuse": a seeded fuzz of upgrade heads, each sent
/// over a raw socket to two servers alike but for <c>WebSockets:ConnectionUpgrade</c>. One serves clean
/// upgrades on the connection (Transport/ConnectionUpgrade), the other leaves every head to Kestrel and the
/// HTTP endpoint. Each head gets the same verdict from both (status class, upgraded or not), and the verdict
/// the standards require where they require one.
/// </summary>
[Trait("Kind", "Security")]
public sealed partial class UpgradeDifferentialTests(UpgradeDifferentialTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<UpgradeDifferentialTests.Fixture>
{
    private const int Seed = 6455;
    private const int Cases = 400;

    /// <summary>A server and a token valid on it.</summary>
    public sealed record Target(TestServer Server, string Token);

    public sealed class Fixture : IAsyncLifetime
    {
        public Target OnConnection { get; private set; } = null!;
        public Target KestrelOnly { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            // Upgraded heads are closed at once; the slot comes back a moment later, so the per-user limit stays out of the way.
            OnConnection = await StartAsync("--Limits:ConnectionsPerUser=100000");
            KestrelOnly = await StartAsync("--Limits:ConnectionsPerUser=100000", "--WebSockets:ConnectionUpgrade=false");
        }

        private static async Task<Target> StartAsync(params string[] settings)
        {
            var server = await TestServer.StartAsync(settings);
            return new Target(server, (await server.CreateUserAsync(Tier.Starter)).Token);
        }

        public async Task DisposeAsync()
        {
            await OnConnection.Server.DisposeAsync();
            await KestrelOnly.Server.DisposeAsync();
        }
    }

    [Fact]
    public async Task FuzzedHeads_GetTheSameVerdict_OnTheConnectionPath_AsThroughKestrel()
    {
        var random = new Random(Seed);
        var cases = Enumerable.Range(0, Cases).Select(_ => FuzzHead.Generate(random)).ToList();
        var started = Stopwatch.StartNew();
        var results = new (FuzzHead Head, Answer OnConnection, Answer KestrelOnly)[cases.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, cases.Count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var head = cases[i];
            results[i] = (head, await SendAsync(fixture.OnConnection, head), await SendAsync(fixture.KestrelOnly, head));
        });
        output.WriteLine($"seed {Seed}: {Cases} heads in {started.Elapsed.TotalSeconds:F1} s; statuses (connection path/Kestrel): "
            + string.Join(", ", results.GroupBy(r => $"{r.OnConnection.Status}/{r.KestrelOnly.Status}").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} x{g.Count()}")));

        var failures = new List<string>();
        foreach (var (head, onConnection, kestrel) in results)
        {
            if (onConnection.Status / 100 != kestrel.Status / 100)
                failures.Add($"connection path {onConnection.Status}, Kestrel {kestrel.Status}: {head}");
            foreach (var (path, answer) in new[] { ("connection path", onConnection), ("Kestrel", kestrel) })
                if (head.Violation(answer) is { } violation)
                    failures.Add($"{path} {answer.Status} ({violation}): {head}");
        }
        foreach (var failure in failures) output.WriteLine(failure);
        Assert.True(failures.Count == 0, $"{failures.Count} of {Cases} heads (seed {Seed}):\n" + string.Join('\n', failures.Take(20)));
        Assert.Contains(results, r => r.KestrelOnly.Status == 101); // the fuzz reaches the upgrade, not only the refusals
        Assert.Contains(results, r => r.KestrelOnly.Status == 426);
    }

    /// <summary>The response head's status (0 when the connection closed without one) and its header lines.</summary>
    private sealed record Answer(int Status, string Head)
    {
        public bool Has(string headerLine) => Head.Contains("\r\n" + headerLine + "\r\n", StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<Answer> SendAsync(Target target, FuzzHead head)
    {
        using var tcp = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await tcp.ConnectAsync(IPAddress.Loopback, target.Server.BaseUri.Port, timeout.Token);
        var stream = tcp.GetStream();
        await stream.WriteAsync(head.Render(target.Server.BaseUri.Authority, target.Token), timeout.Token);
        var buffer = new byte[16 * 1024];
        var length = 0;
        while (length < buffer.Length && buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) < 0)
        {
            int read;
            try { read = await stream.ReadAsync(buffer.AsMemory(length), timeout.Token); }
            catch (IOException) { break; } // reset: no (more of a) response
            if (read == 0) break;
            length += read;
        }
        var text = Encoding.ASCII.GetString(buffer, 0, length);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var statusLine = text.Split("\r\n")[0].Split(' ');
        return new Answer(statusLine.Length > 1 && int.TryParse(statusLine[1], out var status) ? status : 0, end < 0 ? text : text[..(end + 2)]);
    }

    /// <summary>
    /// One fuzzed head, as a template: <c>{authority}</c> and <c>{token}</c> become each server's own. Each
    /// dimension is usually clean, so that many heads get as far as the upgrade and each oddity is seen alone too.
    /// </summary>
    private sealed partial record FuzzHead(string Template, string Method, string Version, string Target, string? Host, int HostCount, string? WsVersion, bool Framing)
    {
        private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

        public static FuzzHead Generate(Random random)
        {
            T Pick<T>(params T[] options) => options[random.Next(options.Length)];
            bool Clean() => random.NextDouble() < 0.8;

            var method = Clean() ? "GET" : Pick("HEAD", "POST", "get", "OPTIONS", "PUT");
            var version = Clean() ? "HTTP/1.1" : Pick("HTTP/1.0", "HTTP/2.0", "HTTP/1.2", "http/1.1");
            var path = Clean() ? "/ws/signals" : Pick("/ws/signals/", "/WS/signals", "/ws/signals%2F", "/ws//signals", "/ws/signal",
                "http://{authority}/ws/signals", "http://other.example/ws/signals", "*");
            var query = Pick("?token={token}", "?token={token}", "?token={token}&after_seq=0", "?token={token}&symbols=BTC-USD", "",
                "?token=forged", "?token={token}&after_seq=x", "?token={token}&x=<a>", "?token={token}&x=%zz", "?token={token}&x=\"q\"", "?token={token}&x=a\tb");
            var target = path + (path == "*" ? "" : query);

            var headers = new List<(string Name, string Value)>();
            var host = Clean() ? "{authority}" : Pick<string?>(null, "", "localhost", "127.0.0.1", "[::1]", "[::1]:80", "[::]", "[fe80::1%25eth0]",
                "bad host", "a/b", "ex@mple", "{authority}:80", "host:", ":80", "under_score.example", "h\u00e9st", "{authority}");
            var hostCount = host is null ? 0 : Clean() ? 1 : 2;
            for (var i = 0; i < hostCount; i++) headers.Add(("Host", host!));
            if (Clean()) headers.Add(("Upgrade", "websocket"));
            else if (Pick(true, false)) headers.Add(("Upgrade", Pick("WebSocket", "websocket, h2c", "h2c", "", "websocket2")));
            if (Clean()) headers.Add(("Connection", Pick("Upgrade", "keep-alive, Upgrade", "upgrade")));
            else if (Pick(true, false)) headers.Add(("Connection", Pick("keep-alive", "close, Upgrade", "close", "Upgrade, Upgrade")));
            var wsVersion = Clean() ? "13" : Pick<string?>(null, "8", "13, 8", "12", " 13 ", "13");
            if (wsVersion is not null) headers.Add(("Sec-WebSocket-Version", wsVersion));
            if (Clean()) headers.Add(("Sec-WebSocket-Key", Key));
            else if (Pick(true, false)) headers.Add(("Sec-WebSocket-Key", Pick("c2hvcnQ=", "not base64!", "", Key + "AA")));
            if (!Clean()) headers.Add(("Origin", Pick("http://{authority}", "https://evil.example", "null", "")));
            if (query.Length == 0 && Clean()) headers.Add(("Authorization", "Bearer {token}"));
            var framing = !Clean();
            var body = "";
            if (framing)
            {
                (var name, var value, body) = Pick(("Content-Length", "0", ""), ("Content-Length", "5", "hello"), ("Transfer-Encoding", "chunked", "0\r\n\r\n"));
                headers.Add((name, value));
            }
            if (!Clean()) headers.Add(("X-Note", Pick("caf\u00e9", "a\u0001b", "tab\there", new string('p', 9000))));
            headers = [.. headers.OrderBy(_ => random.Next())]; // any order

            var casing = Pick<Func<string, string>>(n => n, n => n, n => n, n => n.ToLowerInvariant(), n => n.ToUpperInvariant());
            var lines = new List<string> { $"{method} {target} {version}" };
            lines.AddRange(headers.Select(h => $"{casing(h.Name)}: {h.Value}"));
            if (!Clean() && lines.Count > 1) lines.Insert(1 + random.Next(lines.Count - 1), Pick(" folded", "\tfolded", "X-Bare: cr\rhere", "NoColon"));
            var template = Pick(1, 2, 3, 4, 5, 6, 7, 8, 9) switch
            {
                1 => string.Join("\n", lines) + "\n\n", // bare line feeds throughout
                2 => string.Join("\r\n", lines[..^1]) + "\n" + lines[^1] + "\r\n\r\n", // one bare line feed
                _ => string.Join("\r\n", lines) + "\r\n\r\n",
            };
            return new FuzzHead(template + body, method, version, target, host, hostCount, wsVersion, framing);
        }

        public byte[] Render(string authority, string token) =>
            Encoding.Latin1.GetBytes(Template.Replace("{authority}", authority, StringComparison.Ordinal).Replace("{token}", token, StringComparison.Ordinal));

        /// <summary>No folded, colon-less or bare-CR line, no bare LF: a head Kestrel reads as RFC 9112 writes it.</summary>
        private bool CleanSyntax => !OddSyntax().IsMatch(Template);

        private bool IsUpgradeOfTheStream => Method == "GET" && Version == "HTTP/1.1"
            && (Target == "/ws/signals" || (Target.StartsWith("/ws/signals?", StringComparison.Ordinal) && !Target.Contains('\t', StringComparison.Ordinal)))
            && Template.Contains("upgrade: websocket\r\n", StringComparison.OrdinalIgnoreCase)
            && Template.Contains($"Sec-WebSocket-Key: {Key}\r\n", StringComparison.OrdinalIgnoreCase)
            && (Template.Contains("connection: upgrade\r\n", StringComparison.OrdinalIgnoreCase) || Template.Contains("connection: keep-alive, upgrade\r\n", StringComparison.OrdinalIgnoreCase))
            && HostCount == 1 && Host == "{authority}" && !Framing && CleanSyntax && !Template.Contains("X-Note", StringComparison.Ordinal);

        /// <summary>What the standards require of this head that <paramref name="answer"/> breaks, if anything.</summary>
        public string? Violation(Answer answer)
        {
            if (answer.Status == 101 && Method != "GET") return "RFC 6455 4.1: only GET is upgraded; methods are case-sensitive (RFC 9110 9.1)";
            if (answer.Status == 101 && Version != "HTTP/1.1") return "RFC 9110 7.8: Upgrade in HTTP/1.0 is ignored; RFC 6455 4.1: HTTP/1.1";
            if (Version == "HTTP/1.1" && CleanSyntax && (HostCount != 1 || Host is "bad host" or "a/b" or "ex@mple" or "host:" or ":80" or "[::]" or "h\u00e9st") && answer.Status != 400)
                return "RFC 9112 3.2: a missing, repeated or invalid Host is answered 400";
            if (answer.Status == 426 && !(answer.Has("Sec-WebSocket-Version: 13") && answer.Has("Upgrade: websocket")))
                return "RFC 6455 4.2.2 and RFC 9110 15.5.22: a 426 names the version and the protocol";
            if (IsUpgradeOfTheStream && WsVersion?.Trim() != "13" && answer.Status != 426)
                return "RFC 6455 4.2.2: another Sec-WebSocket-Version is answered 426";
            return null;
        }

        [GeneratedRegex(@"(?<!\r)\n|\r(?!\n)|\n[ \t]|folded|NoColon")]
        private static partial Regex OddSyntax();

        public override string ToString() => Template.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal)
            is var text && text.Length > 400 ? text[..400] + "..." : text;
    }
}
