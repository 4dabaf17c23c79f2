using SignalStream.Cli.Tests.Infrastructure;
using SignalStream.Client.Tests.Infrastructure;

namespace SignalStream.Cli.Tests;

/// <summary>Usage errors and unreachable servers: one line, the documented exit code, never a stack trace.</summary>
public class UsageTests
{
    private static readonly string Nowhere = $"http://127.0.0.1:{RealServer.FreePort()}";

    private static Dictionary<string, string> Env(params (string, string)[] pairs) => pairs.ToDictionary(p => p.Item1, p => p.Item2);

    [Fact]
    public async Task NoArguments_ShowsHelpWithExitCodesAndVariables_Exit2()
    {
        var r = await CliRunner.RunAsync(null, null);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("Exit codes:", r.Out);
        Assert.Contains("SIGNALSTREAM_ADMIN_KEY", r.Out);
        Assert.Contains("tail", r.Out);
        Assert.Contains("publish", r.Out);
    }

    [Theory]
    [InlineData("tail", "--bogus")]
    [InlineData("frobnicate")]
    [InlineData("publish", "--side", "HOLD", "--symbol", "X")]
    [InlineData("users", "set-tier", "alice", "GOLD")]
    [InlineData("tail", "--after-seq", "abc")]
    [InlineData("publish", "--entry", "cheap")]
    [InlineData("users")]
    public async Task WrongOption_OneLineError_Exit2(params string[] args)
    {
        var r = await CliRunner.RunAsync(null, null, args);
        Assert.Equal(2, r.ExitCode);
        Assert.Empty(r.Out);
        Assert.Single(r.ErrLines);
        Assert.StartsWith("error: ", r.Err);
        Assert.Contains("--help", r.Err);
        Assert.DoesNotContain("System.", r.Err, StringComparison.Ordinal); // no .NET type names
        Assert.DoesNotContain("`1", r.Err, StringComparison.Ordinal);
        r.AssertNoStackTrace();
    }

    [Theory]
    [InlineData("error: unknown command 'tial'; did you mean 'tail'?", "tial")]
    [InlineData("error: unknown command 'stat'; did you mean 'stats'?", "stat")]
    [InlineData("error: unknown command 'pubilsh'; did you mean 'publish'?", "pubilsh")]
    [InlineData("error: unknown command 'lst'; did you mean 'list'?", "users", "lst")]
    [InlineData("error: unknown option '--maxx'; did you mean '--max'?", "tail", "--maxx", "3")]
    [InlineData("error: unknown option '--symbol'; did you mean '--symbols'?", "tail", "--symbol", "BTC-USD")]
    [InlineData("error: unknown command 'frobnicate' (see", "frobnicate")]
    [InlineData("error: --after-seq takes a whole number, and 'abc' is not one", "tail", "--after-seq", "abc")]
    [InlineData("error: --entry takes a number, and 'cheap' is not one", "publish", "--entry", "cheap")]
    [InlineData("error: 'users' needs a command: add, set-tier, disable, enable, list", "users")]
    public async Task UsageError_ReadsLikeASentence_WithTheClosestName(string expected, params string[] args)
    {
        var r = await CliRunner.RunAsync(null, null, args);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith(expected, r.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("BUY", "100", "100", "101", "stop_loss: must be below entry_price for a BUY")]
    [InlineData("BUY", "100", "99", "99.5", "take_profit: must be above entry_price for a BUY")]
    [InlineData("SELL", "100", "99", "98", "stop_loss: must be above entry_price for a SELL")]
    [InlineData("sell", "100", "101", "100", "take_profit: must be below entry_price for a SELL")]
    public async Task Publish_PricesOnTheWrongSide_RejectedBeforeSending_Exit1(string side, string entry, string stop, string take, string reason)
    {
        // The server address reaches nothing: a request sent would end in exit 3, not in this rejection.
        var r = await CliRunner.RunAsync(Env(("SIGNALSTREAM_PUBLISHER_KEY", "k"), ("SIGNALSTREAM_URL", Nowhere)), null,
            "publish", "--symbol", "BTC-USD", "--side", side, "--entry", entry, "--stop-loss", stop, "--take-profit", take, "--external-id", "x1");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Equal($"rejected (x1): {reason}", r.OutLines.Single());
    }

    [Fact]
    public async Task PublishFile_BadLines_NamedByNumberInPlainWords()
    {
        var stdin = string.Join('\n',
            """{"external_id":"a","source":"f","symbol":"BTC-USD","side":"BUY","entry_price":10,"stop_loss":11}""",
            "",
            "{not json",
            "[1, 2]",
            """{"external_id":"b","source":"f","symbol":"BTC-USD","side":"SELL","entry_price":10,"take_profit":12}""");
        var r = await CliRunner.RunAsync(Env(("SIGNALSTREAM_PUBLISHER_KEY", "k"), ("SIGNALSTREAM_URL", Nowhere)), stdin, "publish", "--file", "-");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Equal(
        [
            "line 1: rejected (a): stop_loss: must be below entry_price for a BUY",
            "line 3: rejected: not valid JSON (the error is at character 2)",
            """line 4: rejected: not a JSON object: each line is one signal, {"symbol": ..., "side": ..., ...}""",
            "line 5: rejected (b): take_profit: must be below entry_price for a SELL",
        ], r.OutLines);
        Assert.Contains("0 created, 0 duplicate, 4 rejected", r.Err);
        Assert.DoesNotContain("LineNumber", r.Out + r.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SIGNALSTREAM_ADMIN_KEY", "users", "list")]
    [InlineData("SIGNALSTREAM_ADMIN_KEY", "users", "add", "bob", "--password", "pw")]
    [InlineData("SIGNALSTREAM_PUBLISHER_KEY", "publish", "--symbol", "BTC-USD", "--side", "BUY")]
    [InlineData("SIGNALSTREAM_TOKEN", "tail")]
    public async Task MissingKey_NamesTheOptionAndVariable_Exit2(string variable, params string[] args)
    {
        var r = await CliRunner.RunAsync(null, null, args);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.ErrLines);
        Assert.Contains(variable, r.Err);
        r.AssertNoStackTrace();
    }

    [Fact]
    public async Task Publish_NeitherFileNorSignal_Exit2()
    {
        var r = await CliRunner.RunAsync(Env(("SIGNALSTREAM_PUBLISHER_KEY", "k")), null, "publish");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--file", r.Err);
    }

    [Fact]
    public async Task Publish_BothFileAndSignal_Exit2()
    {
        var r = await CliRunner.RunAsync(Env(("SIGNALSTREAM_PUBLISHER_KEY", "k")), null, "publish", "--file", "-", "--symbol", "X", "--side", "BUY");
        Assert.Equal(2, r.ExitCode);
    }

    [Fact]
    public async Task Publish_MissingFile_Exit2()
    {
        var r = await CliRunner.RunAsync(Env(("SIGNALSTREAM_PUBLISHER_KEY", "k")), null, "publish", "--file", "/nonexistent/signals.jsonl");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("no such file", r.Err);
    }

    [Fact]
    public async Task BadUrl_Exit2()
    {
        var r = await CliRunner.RunAsync(Env(("SIGNALSTREAM_ADMIN_KEY", "k"), ("SIGNALSTREAM_URL", "not a url")), null, "users", "list");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("SIGNALSTREAM_URL", r.Err);
    }

    [Theory]
    [InlineData("users", "list", "--admin-key", "secret-admin-key")]
    [InlineData("stats", "--admin-key", "secret-admin-key")]
    [InlineData("publish", "--publisher-key", "secret-admin-key", "--symbol", "BTC-USD", "--side", "BUY")]
    [InlineData("tail", "--token", "secret-admin-key")]
    public async Task ServerUnreachable_Exit3_WithoutEchoingTheSecret(params string[] args)
    {
        var r = await CliRunner.RunAsync(Env(("SIGNALSTREAM_URL", Nowhere)), null, args);
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("cannot reach", r.Err);
        Assert.DoesNotContain("secret-admin-key", r.Out + r.Err);
        r.AssertNoStackTrace();
    }

    [Fact]
    public async Task Tail_TokenAndPasswordTogether_Exit2()
    {
        var r = await CliRunner.RunAsync(null, null, "tail", "--token", "t", "--username", "u", "--password", "p");
        Assert.Equal(2, r.ExitCode);
    }

    [Fact]
    public async Task Process_WrongOption_Exit2_OneLine()
    {
        var r = await CliRunner.RunProcessAsync(null, null, "publish", "--nonsense");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.ErrLines);
        r.AssertNoStackTrace();
    }

    [Fact]
    public async Task Process_Help_NamesTheTool()
    {
        var r = await CliRunner.RunProcessAsync(null, null, "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("signalstream [command] [options]", r.Out);
    }
}
