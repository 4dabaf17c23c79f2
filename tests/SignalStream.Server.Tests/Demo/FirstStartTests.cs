using System.Net;
using System.Net.Http.Json;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Demo;

/// <summary>A fresh deployment: accounts exist only when someone asked for them.</summary>
[Trait("Kind", "Security")]
public sealed class FirstStartTests
{
    private const string Hint = "No user exists yet";

    private static Task<TestServer> StartFreshAsync(StringWriter console, params string[] settings) =>
        TestServer.StartAsync(Path.Combine(Path.GetTempPath(), "signalstream-tests", Guid.NewGuid().ToString("N")), settings, console: console);

    [Fact]
    public async Task PlainStart_CreatesNoUser_PrintsNoPassword_AndSaysOnceHowToCreateTheFirst()
    {
        using var console = new StringWriter();
        await using var server = await StartFreshAsync(console);

        using (var list = TestServer.AdminRequest(HttpMethod.Get, Paths.AdminUsers))
        using (var response = await server.Http.SendAsync(list))
            Assert.Empty((await response.Content.ReadFromJsonAsync(ProtocolJson.Default.UserResponseArray))!);
        using (var login = await server.Http.PostAsJsonAsync(Paths.Token, new { username = "starter", password = "anything-at-all" }))
            Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);

        var hint = Assert.Single(server.Logs, line => line.Contains(Hint, StringComparison.Ordinal));
        Assert.Contains($"POST {Paths.AdminUsers}", hint, StringComparison.Ordinal);
        Assert.Contains("signalstream users add", hint, StringComparison.Ordinal);
        // No password anywhere: not on the console, not in the log stream, not in a file.
        Assert.Equal("", console.ToString());
        Assert.DoesNotContain(server.Logs, line => line.Contains("Seeded demo user", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(server.DataDirectory, "initial-credentials.txt")));
    }

    [Fact]
    public async Task DemoStart_SeedsOneUserPerTier_WhosePasswordWorks_AndGivesNoHint()
    {
        using var console = new StringWriter();
        await using var server = await StartFreshAsync(console, "--demo");

        var credentials = await File.ReadAllLinesAsync(Path.Combine(server.DataDirectory, "initial-credentials.txt"));
        var password = credentials.Single(line => line.StartsWith("starter ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        Assert.Contains(password, console.ToString(), StringComparison.Ordinal); // printed once, for the newcomer
        using (var login = await server.Http.PostAsJsonAsync(Paths.Token, new { username = "starter", password }))
        {
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
            var token = (await login.Content.ReadFromJsonAsync(ProtocolJson.Default.TokenResponse))!;
            TestServer.RememberSecret(token.AccessToken);
            Assert.Equal(Tier.Starter, token.Tier);
        }
        using (var list = TestServer.AdminRequest(HttpMethod.Get, Paths.AdminUsers))
        using (var response = await server.Http.SendAsync(list))
            Assert.Equal(3, (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.UserResponseArray))!.Length);
        Assert.DoesNotContain(server.Logs, line => line.Contains(Hint, StringComparison.Ordinal));
    }
}
