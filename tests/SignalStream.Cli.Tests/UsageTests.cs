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
    public async Task WrongOption_OneLineError_Exit2(params string[] args)
    {
        var r = await CliRunner.RunAsync(null, null, args);
        Assert.Equal(2, r.ExitCode);
        Assert.Empty(r.Out);
        Assert.Single(r.ErrLines);
        Assert.StartsWith("error: ", r.Err);
        Assert.Contains("--help", r.Err);
        r.AssertNoStackTrace();
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
