using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Observability;

/// <summary>
/// Issue 3: "Logs never contain a token, ticket, password or API key". One test walks every path
/// that takes a secret on its own server and reads that server's log (robust whatever else runs);
/// the other reads everything every server logged during the run.
/// </summary>
[Collection(LastCollection.Name)]
[Trait("Kind", "Security")]
public sealed partial class SecretsInLogsTests
{
    private const string OtherPassword = "another secret passphrase 42";

    [Fact]
    public async Task EveryPathThatTakesASecret_LeavesNoSecretInTheLog()
    {
        await using var server = await TestServer.StartAsync();
        await WalkEveryPathThatTakesASecretAsync(server);
    }

    /// <summary>The JSON log (<c>--log-format json</c>, as the console prints it, in a trace) keeps the same guarantees.</summary>
    [Fact]
    public async Task EveryPathThatTakesASecret_LeavesNoSecretInTheJsonLog()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var server = await TestServer.StartAsync("--log-format", "json", $"--Observability:Otlp:Endpoint={receiver.Endpoint}");
        await WalkEveryPathThatTakesASecretAsync(server);
        Assert.All(server.Logs, line => Assert.StartsWith("{\"Timestamp\":", line, StringComparison.Ordinal));
    }

    private static async Task WalkEveryPathThatTakesASecretAsync(TestServer server)
    {
        var secrets = new List<string> { TestServer.AdminKey, TestServer.PublisherKey, TestServer.SigningKey, TestServer.Password, OtherPassword };
        string Keep(string secret)
        {
            secrets.Add(TestServer.RememberSecret(secret));
            return secret;
        }

        // Admin: a user created with a password, then a password change.
        var user = await server.CreateUserAsync(Tier.Professional); // admin key header, password in the body, then a login
        secrets.Add(user.Token);
        using (var change = await server.UpdateUserAsync(user.Id, new { password = OtherPassword })) Assert.Equal(HttpStatusCode.OK, change.StatusCode);
        var token = Keep(await server.LoginAsync(user.Username, OtherPassword));
        using (var wrong = await server.Http.PostAsJsonAsync(Paths.Token, new { username = user.Username, password = TestServer.Password }))
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        // Renewal with our own bearer token, and a ticket bought with a bearer token.
        using (var renew = TestServer.UserRequest(HttpMethod.Post, Paths.Token, token))
        using (var renewed = await server.Http.SendAsync(renew))
        {
            Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
            Keep((await renewed.Content.ReadFromJsonAsync(ProtocolJson.Default.TokenResponse))!.AccessToken);
        }
        var ticket = await server.TicketAsync(token);
        secrets.Add(ticket);

        // The socket: ?token= (accepted, refused, percent-encoded name, repeated, upper case), ?ticket= (used, reused), a header.
        var queries = new[]
        {
            $"token={Uri.EscapeDataString(token)}&symbols=BTC-USD",
            $"symbols=BTC-USD&ticket={ticket}",
            $"ticket={ticket}",                                    // reused: 401
            $"%74oken={Uri.EscapeDataString(token)}",              // "token", percent-encoded
            $"TOKEN={Uri.EscapeDataString(token)}",
            $"token=x&token={Uri.EscapeDataString(token)}",
            $"access_token={Uri.EscapeDataString(token)}",
            $"token={Keep(Tokens.Forge("payload-edited", user.Id, token))}",
            $"token={Keep(Tokens.Forge("expired", user.Id, token))}",
            $"token={Keep(new string('t', 20 * 1024))}",
            $"after_seq=abc&token={Uri.EscapeDataString(token)}",   // refused 400 after the token was read
        };
        foreach (var query in queries)
        {
            await using var socket = await server.ConnectRawAsync(query);
            Assert.True(socket.Status is 101 or 400 or 401, $"{query[..Math.Min(query.Length, 40)]}: {socket.Status}");
        }
        await using (var header = await server.ConnectRawAsync(bearer: token)) Assert.Equal(101, header.Status);

        // In-band refresh with a new token, and with a bad one.
        var (live, _) = await server.ConnectWelcomedAsync(token);
        await using (live)
        {
            var fresh = Keep(await server.LoginAsync(user.Username, OtherPassword));
            await live.SendAsync(new { type = "refresh", token = fresh });
            await live.SendAsync(new { type = "refresh", token = Keep(Tokens.Forge("hs256-other-key", user.Id, token)) });
            Assert.Equal(ErrorCodes.InvalidToken, (await live.ExpectAsync(MessageTypes.Error)).Code);
        }

        // Ingest: the key in its header, a wrong one, one in the query string; stats and metrics with the admin key.
        Assert.True(await server.PublishAsync() > 0);
        using (var wrongKey = await server.PostSignalAsync(TestServer.NewSignal(), Keep("wrong-publisher-key-0123456789"))) Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        using (var inQuery = await server.Http.PostAsJsonAsync($"{Paths.Ingest}?api_key={TestServer.PublisherKey}&key={TestServer.AdminKey}", TestServer.NewSignal()))
            Assert.Equal(HttpStatusCode.Unauthorized, inQuery.StatusCode);
        using (var stats = await server.Http.SendAsync(TestServer.AdminRequest(HttpMethod.Get, Paths.Stats))) Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
        using (var list = await server.Http.GetAsync($"{Paths.Signals}?token={Uri.EscapeDataString(token)}")) Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);

        // The server logged what it did (so the scan below reads a real log), and no secret at all.
        var logs = server.Logs.ToArray();
        Assert.Contains(logs, l => l.Contains("/ws/signals", StringComparison.Ordinal) && l.Contains("token=[redacted]", StringComparison.Ordinal));
        Assert.Contains(logs, l => l.Contains("ticket=[redacted]", StringComparison.Ordinal));
        AssertNoSecret(logs, secrets);
    }

    [Fact]
    public void EverythingEveryServerLoggedDuringTheRun_HoldsNoSecret()
    {
        var logs = TestServer.AllLogs.ToArray();
        Assert.NotEmpty(logs);
        AssertNoSecret(logs, [TestServer.AdminKey, TestServer.PublisherKey, TestServer.SigningKey, TestServer.Password, OtherPassword, .. TestServer.IssuedSecrets.Keys]);
    }

    [Fact]
    public void Scan_FindsAPlantedSecret_SoItsSilenceMeansSomething()
    {
        const string token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        Assert.ThrowsAny<Exception>(() => AssertNoSecret([$"GET /ws/signals?token={token} answered 101"], [token]));
        Assert.ThrowsAny<Exception>(() => AssertNoSecret(["refresh failed for dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"], [token]));
        Assert.ThrowsAny<Exception>(() => AssertNoSecret([$"key {TestServer.AdminKey}"], [TestServer.AdminKey]));
        AssertNoSecret(["GET /ws/signals?token=[redacted] answered 101"], [token]);
    }

    private static void AssertNoSecret(string[] logs, IEnumerable<string> secrets)
    {
        // Whole secrets, and the signature of every token on its own (a log of "part of a token" is a leak too).
        var needles = secrets.Where(s => s.Length >= 16)
            .SelectMany(s => s.Count(c => c == '.') == 2 && s.Split('.')[2].Length >= 16 ? [s, s.Split('.')[2]] : new[] { s })
            .Distinct().ToList();
        foreach (var line in logs)
        {
            foreach (var needle in needles)
                Assert.False(line.Contains(needle, StringComparison.Ordinal), $"a secret ({needle[..6]}...) was logged: {line[..Math.Min(line.Length, 300)]}");
            // Anything shaped like a JWT (base64url of '{"') is suspect whatever registry it escaped.
            Assert.False(JwtShape().IsMatch(line), $"something token-shaped was logged: {line[..Math.Min(line.Length, 300)]}");
        }
    }

    [GeneratedRegex(@"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")]
    private static partial Regex JwtShape();
}
