using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SignalStream.Cli.Tests.Infrastructure;
using SignalStream.Client.Tests.Infrastructure;

namespace SignalStream.Cli.Tests;

[CollectionDefinition(Name)]
public sealed class RealServerCollection
{
    /// <summary>Real-server tests run one class at a time: each starts a server process, and the machine has two cores.</summary>
    public const string Name = "real server";
}

public sealed class ServerFixture : IAsyncLifetime
{
    public RealServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await RealServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>The real command against the real server: users, publish, stats and tail, with their exit codes.</summary>
[Collection(RealServerCollection.Name)]
public sealed class RealServerCliTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RealServer Server => fixture.Server;

    private Dictionary<string, string> Env(params (string, string)[] more)
    {
        var env = new Dictionary<string, string>
        {
            ["SIGNALSTREAM_URL"] = Server.Uri.ToString(),
            ["SIGNALSTREAM_ADMIN_KEY"] = RealServer.AdminKey,
            ["SIGNALSTREAM_PUBLISHER_KEY"] = RealServer.PublisherKey,
        };
        foreach (var (k, v) in more)
            env[k] = v;
        return env;
    }

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private static void AssertNoSecrets(CliResult r, params string[] secrets)
    {
        foreach (var secret in secrets.Append(RealServer.AdminKey).Append(RealServer.PublisherKey))
            Assert.DoesNotContain(secret, r.Out + r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Users_AddListSetTierDisableEnable_RoundTrip()
    {
        var name = Unique("ursula");
        var add = await CliRunner.RunAsync(Env(), null, "users", "add", name, "--password", "pw-123456", "--tier", "starter", "--json");
        Assert.True(add.ExitCode == 0, add.ToString());
        var created = JsonNode.Parse(add.OutLines.Single())!;
        Assert.Equal(name, created["username"]!.GetValue<string>());
        Assert.Equal("STARTER", created["tier"]!.GetValue<string>());
        var id = created["user_id"]!.GetValue<string>();
        AssertNoSecrets(add, "pw-123456");

        var setTier = await CliRunner.RunAsync(Env(), null, "users", "set-tier", name, "PROFESSIONAL");
        Assert.True(setTier.ExitCode == 0, setTier.ToString());
        Assert.Contains("PROFESSIONAL", setTier.Out);

        var disable = await CliRunner.RunAsync(Env(), null, "users", "disable", id);
        Assert.True(disable.ExitCode == 0, disable.ToString());
        Assert.Contains("disabled", disable.Out);

        var list = await CliRunner.RunAsync(Env(), null, "users", "list", "--json");
        Assert.Equal(0, list.ExitCode);
        var mine = list.OutLines.Select(l => JsonNode.Parse(l)!).Single(u => u["user_id"]!.GetValue<string>() == id);
        Assert.Equal("PROFESSIONAL", mine["tier"]!.GetValue<string>());
        Assert.True(mine["disabled"]!.GetValue<bool>());

        var enable = await CliRunner.RunAsync(Env(), null, "users", "enable", name, "--json");
        Assert.Equal(0, enable.ExitCode);

        var table = await CliRunner.RunAsync(Env(), null, "users", "list");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains(name, table.Out);
        Assert.Contains("USERNAME", table.Out);
    }

    [Fact]
    public async Task Users_AddExisting_Exit1WithTheReason()
    {
        var name = Unique("dup");
        Assert.Equal(0, (await CliRunner.RunAsync(Env(), null, "users", "add", name, "--password", "pw-123456")).ExitCode);
        var again = await CliRunner.RunAsync(Env(), "pw-123456\n", "users", "add", name, "--password-stdin");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already exists", again.Err);
        Assert.Contains("409", again.Err);
        again.AssertNoStackTrace();
    }

    [Fact]
    public async Task Users_UnknownUser_Exit1()
    {
        var r = await CliRunner.RunAsync(Env(), null, "users", "set-tier", "nobody-" + Guid.NewGuid(), "STARTER");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no user", r.Err);
    }

    [Fact]
    public async Task Users_WrongAdminKey_Exit3WithoutEchoingIt()
    {
        var r = await CliRunner.RunAsync(Env(("SIGNALSTREAM_ADMIN_KEY", "wrong-key-xyz")), null, "users", "list");
        Assert.Equal(3, r.ExitCode);
        Assert.Single(r.ErrLines);
        Assert.Contains("refused the admin key", r.Err);
        Assert.DoesNotContain("wrong-key-xyz", r.Err);
        r.AssertNoStackTrace();
    }

    [Fact]
    public async Task Publish_OneFromOptions_CreatedThenDuplicate()
    {
        var ext = Unique("one");
        string[] args = ["publish", "--symbol", "btc-usd", "--side", "buy", "--entry", "65000.5", "--stop-loss", "64000", "--take-profit", "68000",
            "--confidence", "0.8", "--timeframe", "1h", "--premium", "--external-id", ext, "--notes", "from the test"];
        var first = await CliRunner.RunAsync(Env(), null, args);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.StartsWith("created seq ", first.Out);

        var second = await CliRunner.RunAsync(Env(), null, [.. args, "--json"]);
        Assert.Equal(0, second.ExitCode);
        var result = JsonNode.Parse(second.OutLines.Single())!;
        Assert.Equal("duplicate", result["status"]!.GetValue<string>());
        Assert.Equal(ext, result["external_id"]!.GetValue<string>());
        AssertNoSecrets(first);
    }

    [Fact]
    public async Task Publish_File_ReportsEachLine_GoesOnAfterRejects_Exit1()
    {
        var a = Unique("a");
        var lines = new[]
        {
            $$"""{"external_id":"{{a}}","source":"file","symbol":"BTC-USD","side":"BUY","entry_price":1}""",
            $$"""{"external_id":"{{a}}","source":"file","symbol":"BTC-USD","side":"BUY","entry_price":1}""",
            $$"""{"external_id":"{{Unique("b")}}","source":"file","symbol":"BTC-USD","side":"HOLD"}""",
            "this is not json",
            "",
            $$"""{"external_id":"{{Unique("c")}}","source":"file","symbol":"ETH-USD","side":"SELL","min_tier":"INSTITUTIONAL"}""",
        };
        var path = Path.Combine(Path.GetTempPath(), Unique("signals") + ".jsonl");
        await File.WriteAllLinesAsync(path, lines);
        try
        {
            var r = await CliRunner.RunAsync(Env(), null, "publish", "--file", path);
            Assert.True(r.ExitCode == 1, r.ToString());
            var output = r.OutLines;
            Assert.Equal(5, output.Length);
            Assert.StartsWith("line 1: created seq ", output[0]);
            Assert.StartsWith("line 2: duplicate seq ", output[1]);
            Assert.StartsWith("line 3: rejected", output[2]);
            Assert.Contains("HTTP 400", output[2]);
            Assert.Contains("side", output[2]); // the server's field error, passed on
            Assert.StartsWith("line 4: rejected", output[3]);
            Assert.Equal("line 4: rejected: not valid JSON (the error is at character 2)", output[3]); // "t" could start "true"; "h" cannot follow it
            Assert.StartsWith("line 6: created seq ", output[4]);
            Assert.Contains("2 created, 1 duplicate, 2 rejected", r.Err);
            r.AssertNoStackTrace();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Publish_Stdin_Json_AllCreated_Exit0_WithProgress()
    {
        var builder = new StringBuilder();
        const int count = 200;
        for (var i = 0; i < count; i++)
            builder.AppendLine($$"""{"external_id":"{{Unique("s")}}","source":"stdin","symbol":"SOL-USD","side":"BUY","confidence":0.5}""");
        var r = await CliRunner.RunAsync(Env(), builder.ToString(), "publish", "--file", "-", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var results = r.OutLines.Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(count, results.Count);
        Assert.All(results, x => Assert.Equal("created", x["status"]!.GetValue<string>()));
        var seqs = results.Select(x => x["seq"]!.GetValue<long>()).ToList();
        Assert.Equal(seqs.OrderBy(s => s), seqs);
        Assert.Contains("progress: 100 signal(s)", r.Err);
        Assert.Contains("progress: 200 signal(s)", r.Err);
    }

    [Fact]
    public async Task Publish_WrongKey_Exit3()
    {
        var r = await CliRunner.RunAsync(Env(("SIGNALSTREAM_PUBLISHER_KEY", "nope-nope")), null, "publish", "--symbol", "BTC-USD", "--side", "SELL");
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("refused the publisher key", r.Err);
        Assert.DoesNotContain("nope-nope", r.Err);
    }

    [Fact]
    public async Task Stats_TableAndJson()
    {
        var json = await CliRunner.RunAsync(Env(), null, "stats", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var stats = JsonNode.Parse(json.Out)!;
        Assert.NotNull(stats["total_connections"]);
        Assert.NotNull(stats["users_by_tier"]!["STARTER"]);

        var table = await CliRunner.RunAsync(Env(), null, "stats");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("total_connections", table.Out);
        Assert.Contains("users_by_tier.PROFESSIONAL", table.Out);
    }

    [Fact]
    public async Task Stats_WithoutKey_Exit2()
    {
        var env = Env();
        env.Remove("SIGNALSTREAM_ADMIN_KEY");
        var r = await CliRunner.RunAsync(env, null, "stats");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("SIGNALSTREAM_ADMIN_KEY", r.Err);
    }

    [Fact]
    public async Task Tail_Json_FromAfterSeq_PrintsEveryVisibleSignalInOrder()
    {
        var name = Unique("tina");
        await Server.CreateUserAsync(name, "pw-123456", "STARTER");
        var first = await Server.PublishAsync(Unique("t"), "BTC-USD");
        await Server.PublishAsync(Unique("t"), "BTC-USD", "PROFESSIONAL"); // invisible to STARTER
        var second = await Server.PublishAsync(Unique("t"), "ETH-USD");
        var third = await Server.PublishAsync(Unique("t"), "BTC-USD");

        var r = await CliRunner.RunAsync(Env(("SIGNALSTREAM_USERNAME", name), ("SIGNALSTREAM_PASSWORD", "pw-123456")), null,
            "tail", "--json", "--after-seq", (first - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "--max", "3");
        Assert.True(r.ExitCode == 0, r.ToString());
        var seqs = r.OutLines.Select(l => JsonNode.Parse(l)!["seq"]!.GetValue<long>()).ToArray();
        Assert.Equal([first, second, third], seqs);
        Assert.Contains("connected as STARTER", r.Err);
        AssertNoSecrets(r, "pw-123456");
    }

    [Fact]
    public async Task Tail_Table_WithSymbolFilter()
    {
        var name = Unique("tom");
        await Server.CreateUserAsync(name, "pw-123456", "INSTITUTIONAL");
        var token = await Server.LoginAsync(name, "pw-123456");
        var start = await Server.PublishAsync(Unique("x"), "XRP-USD");
        await Server.PublishAsync(Unique("x"), "BTC-USD");
        await Server.PublishAsync(Unique("x"), "XRP-USD");

        var r = await CliRunner.RunAsync(Env(("SIGNALSTREAM_TOKEN", token)), null,
            "tail", "--symbols", "XRP-USD", "--after-seq", (start - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "--max", "2");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("SEQ", r.OutLines[0]);
        Assert.Contains("SYMBOL", r.OutLines[0]);
        Assert.Equal(3, r.OutLines.Length);
        Assert.All(r.OutLines.Skip(1), l => Assert.Contains("XRP-USD", l));
        Assert.DoesNotContain("BTC-USD", r.Out);
        AssertNoSecrets(r, token);
    }

    [Theory]
    [InlineData("BTC USD")]
    [InlineData("<script>")]
    public async Task Tail_SymbolsTheServerRefuses_ShowsItsProblem_Exit2_WithoutRetrying(string symbols)
    {
        var name = Unique("sid");
        await Server.CreateUserAsync(name, "pw-123456", "STARTER");
        // CliRunner gives up after 60 s: a tail that retried forever would fail here rather than exit.
        var r = await CliRunner.RunAsync(Env(("SIGNALSTREAM_USERNAME", name), ("SIGNALSTREAM_PASSWORD", "pw-123456")), null, "tail", "--symbols", symbols);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("error: the server refused the stream (HTTP 400: Invalid symbols - symbols is a comma-separated list of at most 100 symbols.)", r.Err);
        Assert.DoesNotContain("reconnect", r.Err, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(r.Out);
        AssertNoSecrets(r, "pw-123456");
    }

    [Fact]
    public async Task Tail_BadToken_ShowsTheServersProblem_Exit3()
    {
        var r = await CliRunner.RunAsync(Env(("SIGNALSTREAM_TOKEN", "not-a-token-xyz")), null, "tail");
        Assert.True(r.ExitCode == 3, r.ToString());
        Assert.Contains("error: the server refused the credentials (HTTP 401: ", r.Err);
        Assert.DoesNotContain("not-a-token-xyz", r.Err);
        r.AssertNoStackTrace();
    }

    [Fact]
    public async Task Publish_PriceRule_TheServerRefusesIt_InTheWordsTheCliUses()
    {
        // Straight to the server, past the CLI's own check: a SELL whose take profit is above the entry.
        using var http = new HttpClient { BaseAddress = Server.Uri };
        using var request = new HttpRequestMessage(HttpMethod.Post, SignalStream.Protocol.Paths.Ingest.TrimStart('/'))
        {
            Content = new StringContent($$"""{"external_id":"{{Unique("p")}}","source":"t","symbol":"BTC-USD","side":"SELL","entry_price":100,"take_profit":101}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-API-Key", RealServer.PublisherKey);
        using var response = await http.SendAsync(request);
        Assert.Equal(400, (int)response.StatusCode);
        var serverWords = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]!["take_profit"]![0]!.GetValue<string>();

        var r = await CliRunner.RunAsync(Env(), null, "publish", "--symbol", "BTC-USD", "--side", "SELL", "--entry", "100", "--take-profit", "101");
        Assert.Equal(1, r.ExitCode);
        Assert.EndsWith("take_profit: " + serverWords, r.OutLines.Single(), StringComparison.Ordinal);
        Assert.Equal("must be below entry_price for a SELL", serverWords);
    }

    [Fact]
    public async Task Tail_WrongPassword_Exit3()
    {
        var r = await CliRunner.RunAsync(Env(("SIGNALSTREAM_USERNAME", "nobody"), ("SIGNALSTREAM_PASSWORD", "wrong-pw-123")), null, "tail");
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("refused the credentials (HTTP 401", r.Err);
        Assert.DoesNotContain("wrong-pw-123", r.Err);
        r.AssertNoStackTrace();
    }

    [Fact]
    public async Task Process_PublishFromStdin_RealToolProcess()
    {
        var stdin = $$"""{"external_id":"{{Unique("p")}}","source":"proc","symbol":"BTC-USD","side":"BUY"}""" + "\n" +
                    """{"external_id":"bad","source":"proc","symbol":"BTC-USD","side":"NOPE"}""" + "\n";
        var r = await CliRunner.RunProcessAsync(Env(), stdin, "publish", "-f", "-");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.StartsWith("line 1: created", r.OutLines[0]);
        Assert.StartsWith("line 2: rejected", r.OutLines[1]);
        r.AssertNoStackTrace();
        AssertNoSecrets(r);
    }
}

/// <summary><c>tail</c> across a server crash and restart: it reports the states and resumes without gaps or repeats.</summary>
[Collection(RealServerCollection.Name)]
public sealed class TailResumeTests : IAsyncLifetime
{
    private RealServer _server = null!;

    public async Task InitializeAsync() => _server = await RealServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Tail_ServerKilledAndRestarted_ShowsStatesAndResumes()
    {
        await _server.CreateUserAsync("rita", "pw-123456", "STARTER");
        var env = new Dictionary<string, string>
        {
            ["SIGNALSTREAM_URL"] = _server.Uri.ToString(),
            ["SIGNALSTREAM_USERNAME"] = "rita",
            ["SIGNALSTREAM_PASSWORD"] = "pw-123456",
        };
        var output = new WatchedWriter();
        var error = new WatchedWriter();
        var tail = CliRunner.RunAsync(env, null, output, error, CancellationToken.None, "tail", "--json", "--after-seq", "0", "--max", "6");

        var seqs = new List<long>();
        for (var i = 0; i < 3; i++)
            seqs.Add(await _server.PublishAsync($"before-{i}"));
        await output.WaitForAsync(t => t.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= 3, "three signals");

        await _server.KillAsync();
        await error.WaitForAsync(t => t.Contains("reconnecting in", StringComparison.Ordinal), "the reconnecting state");
        await _server.RestartAsync();
        for (var i = 0; i < 3; i++)
            seqs.Add(await _server.PublishAsync($"after-{i}"));

        Assert.Equal(0, await tail);
        var printed = output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(seqs, printed);
        Assert.Contains("connection lost", error.Text);
        Assert.Contains("resuming after seq 3", error.Text);
    }
}
