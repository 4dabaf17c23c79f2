using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SignalStream.Protocol;
using SignalStream.Server.Auth;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Auth;

/// <summary>Repeated failed logins slow down, then lock out for a window: per username, per address, on every node.</summary>
[Trait("Kind", "Security")]
public sealed class LoginThrottleTests
{
    private const string NoDelay = "--Auth:Throttle:FailureDelay=00:00:00";

    private sealed record Answer(HttpStatusCode Status, string Body, TimeSpan? RetryAfter, string? ContentType);

    private static async Task<Answer> LoginAsync(HttpClient http, string username, string password = "not the password")
    {
        using var response = await http.PostAsJsonAsync(Paths.Token, new { username, password });
        var body = await response.Content.ReadAsStringAsync();
        return new(response.StatusCode, body, response.Headers.RetryAfter?.Delta, response.Content.Headers.ContentType?.MediaType);
    }

    private static async Task<Answer> ExchangeAsync(HttpClient http, string bearer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Token);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await http.SendAsync(request);
        return new(response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.RetryAfter?.Delta, response.Content.Headers.ContentType?.MediaType);
    }

    private static void AssertLockedOut(Answer answer)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, answer.Status);
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.NotNull(answer.RetryAfter);
        Assert.True(answer.RetryAfter > TimeSpan.Zero);
    }

    [Fact]
    public async Task OneUsername_LockedAfterItsAllowance_EvenWithTheRightPassword_ThenLogsInAfterTheWindow()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow); // the throttle's clock only
        await using var server = await TestServer.StartAsync(
            builder => builder.Services.AddSingleton(sp => new LocalFailureCounter(sp.GetRequiredService<IOptions<AuthOptions>>(), clock)),
            NoDelay, "--Auth:Throttle:FailuresPerUsername=3", "--Auth:Throttle:FailuresPerAddress=1000", "--Auth:Throttle:Window=00:10:00");
        var victim = await server.CreateUserAsync(Tier.Starter);
        var bystander = await server.CreateUserAsync(Tier.Starter);

        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(server.Http, victim.Username)).Status);
        clock.Advance(TimeSpan.FromMinutes(4));
        for (var i = 0; i < 2; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(server.Http, victim.Username)).Status);
        var locked = await LoginAsync(server.Http, victim.Username, TestServer.Password);
        AssertLockedOut(locked);
        Assert.Equal(TimeSpan.FromMinutes(6), locked.RetryAfter); // the window runs from the first failure
        // Only that username: the same address logs in as someone else.
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(server.Http, bystander.Username, TestServer.Password)).Status);

        clock.Advance(locked.RetryAfter!.Value - TimeSpan.FromSeconds(1));
        AssertLockedOut(await LoginAsync(server.Http, victim.Username, TestServer.Password));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(server.Http, victim.Username, TestServer.Password)).Status);
    }

    [Fact]
    public async Task OneAddress_LockedAfterItsAllowance_ForEveryUsername()
    {
        await using var server = await TestServer.StartAsync(NoDelay, "--Auth:Throttle:FailuresPerUsername=1000", "--Auth:Throttle:FailuresPerAddress=4");
        var user = await server.CreateUserAsync(Tier.Professional);

        for (var i = 0; i < 4; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(server.Http, $"guess-{i}")).Status);
        AssertLockedOut(await LoginAsync(server.Http, user.Username, TestServer.Password));
        AssertLockedOut(await LoginAsync(server.Http, "guess-new"));
    }

    [Fact]
    public async Task BehindATrustedProxy_EachForwardedClientAddressIsCountedOnItsOwn()
    {
        // The test client is on loopback, which is trusted as a proxy: its X-Forwarded-For names the client.
        await using var server = await TestServer.StartAsync(NoDelay, "--Auth:Throttle:FailuresPerUsername=1000", "--Auth:Throttle:FailuresPerAddress=2");
        async Task<Answer> FromAsync(string client, string username)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Token) { Content = JsonContent.Create(new { username, password = "not the password" }) };
            request.Headers.Add("X-Forwarded-For", client);
            using var response = await server.Http.SendAsync(request);
            return new(response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.RetryAfter?.Delta, response.Content.Headers.ContentType?.MediaType);
        }

        for (var i = 0; i < 2; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await FromAsync("203.0.113.7", $"guess-{i}")).Status);
        AssertLockedOut(await FromAsync("203.0.113.7", "guess-new"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await FromAsync("203.0.113.8", "guess-new")).Status); // another client behind the same proxy
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(server.Http, "guess-new")).Status); // the proxy itself
    }

    [Fact]
    public async Task TokenExchange_FailuresFromOneAddress_LockOut()
    {
        await using var server = await TestServer.StartAsync(NoDelay, "--Auth:Throttle:FailuresPerAddress=3");
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await ExchangeAsync(server.Http, $"forged.token.{i}")).Status);
        AssertLockedOut(await ExchangeAsync(server.Http, "forged.token.again"));
    }

    [Fact]
    public async Task UnknownAndKnownUsernames_GetTheSameAnswersAtTheSameCounts()
    {
        await using var server = await TestServer.StartAsync(NoDelay, "--Auth:Throttle:FailuresPerUsername=2", "--Auth:Throttle:FailuresPerAddress=1000");
        var known = await server.CreateUserAsync(Tier.Starter);

        var forKnown = new List<Answer>();
        var forUnknown = new List<Answer>();
        for (var i = 0; i < 3; i++)
        {
            forKnown.Add(await LoginAsync(server.Http, known.Username));
            forUnknown.Add(await LoginAsync(server.Http, "nobody-by-this-name"));
        }
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], forKnown.Select(a => a.Status));
        Assert.Equal(forKnown.Select(a => a.Status), forUnknown.Select(a => a.Status));
        Assert.Equal(forKnown.Select(a => Comparable(a.Body)), forUnknown.Select(a => Comparable(a.Body)));
        Assert.Equal(forKnown.Select(a => a.RetryAfter.HasValue), forUnknown.Select(a => a.RetryAfter.HasValue));
    }

    [Fact]
    public async Task UnknownUsername_CostsAPasswordHashLikeAKnownOne()
    {
        await using var server = await TestServer.StartAsync(NoDelay, "--Auth:Throttle:FailuresPerUsername=1000", "--Auth:Throttle:FailuresPerAddress=1000");
        var known = await server.CreateUserAsync(Tier.Starter);
        var forKnown = new List<TimeSpan>();
        var forUnknown = new List<TimeSpan>();
        for (var i = 0; i < 7; i++)
        {
            forKnown.Add(await TimeAsync(() => LoginAsync(server.Http, known.Username)));
            forUnknown.Add(await TimeAsync(() => LoginAsync(server.Http, $"nobody-{i}")));
        }
        // The fastest of each is the work itself, with the least noise of a busy machine. Without the decoy hash an
        // unknown name answers in well under a tenth of the time of a PBKDF2 verification.
        Assert.True(forUnknown.Min() * 3 > forKnown.Min(), $"unknown {forUnknown.Min().TotalMilliseconds} ms, known {forKnown.Min().TotalMilliseconds} ms");
    }

    [Fact]
    [Trait("Kind", "ScaleOut")]
    public async Task TwoNodesSharingRedis_CountFailuresTogether()
    {
        var directory = Path.Combine(Path.GetTempPath(), "signalstream-tests", Guid.NewGuid().ToString("N"));
        // A Redis of its own: every test logs in from 127.0.0.1, and a locked address must not reach other tests.
        using var redis = new RedisServer(Path.Combine(directory, "redis"));
        await redis.StartAsync();
        string[] shared = [NoDelay, "--Auth:Throttle:FailuresPerUsername=3", "--Auth:Throttle:FailuresPerAddress=5",
            "--Backplane:Provider=redis", $"--Backplane:ConnectionString=127.0.0.1:{redis.Port}"];
        await using var a = await TestServer.StartAsync([.. shared, "--Cluster:NodeId=throttle-a"]);
        await using var b = await TestServer.StartAsync([.. shared, "--Cluster:NodeId=throttle-b"]);

        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(a.Http, "ghost")).Status);
        AssertLockedOut(await LoginAsync(b.Http, "ghost")); // the username, locked on A, is locked on B

        for (var i = 0; i < 2; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(b.Http, $"other-{i}")).Status);
        AssertLockedOut(await LoginAsync(a.Http, "third")); // five failures from this address, on two nodes
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
    }

    private static async Task<TimeSpan> TimeAsync(Func<Task<Answer>> attempt)
    {
        var started = Stopwatch.GetTimestamp();
        Assert.Equal(HttpStatusCode.Unauthorized, (await attempt()).Status);
        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>The body without the per-request trace id.</summary>
    private static string Comparable(string body)
    {
        var json = JsonNode.Parse(body)!.AsObject();
        json.Remove("traceId");
        return json.ToJsonString();
    }
}
