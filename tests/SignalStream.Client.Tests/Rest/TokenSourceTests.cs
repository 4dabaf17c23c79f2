using System.Net;
using Microsoft.Extensions.Time.Testing;
using SignalStream.Client.Rest;
using SignalStream.Client.Tests.Infrastructure;

namespace SignalStream.Client.Tests.Rest;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class TokenSourceTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch.AddDays(1));
    private readonly HttpClient _http;
    private readonly ScriptedHttpHandler _handler;
    private int _logins;

    public TokenSourceTests()
    {
        _handler = new ScriptedHttpHandler(_ => ScriptedHttpHandler.Json(
            $$"""{"access_token":"login-{{Interlocked.Increment(ref _logins)}}","token_type":"Bearer","expires_in":300,"user_id":"u1","tier":"STARTER"}"""));
        _http = new HttpClient(_handler) { BaseAddress = new Uri("http://server/") };
    }

    public void Dispose() => _http.Dispose();

    private TokenSource Source(Action<SignalStreamClientOptions> credentials)
    {
        var options = new SignalStreamClientOptions { TimeProvider = _time };
        credentials(options);
        return new TokenSource(options, _http);
    }

    [Fact]
    public async Task Login_IsReusedWhileItHasMoreThanAMinute_ThenRenewed()
    {
        var tokens = Source(o => { o.Username = "alice"; o.Password = "secret"; });
        Assert.Equal("login-1", await tokens.GetAsync(false, CancellationToken.None));
        Assert.True(tokens.LastWasFresh);
        _time.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal("login-1", await tokens.GetAsync(false, CancellationToken.None));
        Assert.False(tokens.LastWasFresh);
        _time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        Assert.Equal("login-2", await tokens.GetAsync(false, CancellationToken.None));
        Assert.Equal("login-3", await tokens.GetAsync(forceNew: true, CancellationToken.None));
        Assert.Equal("login-3", tokens.Current);
        Assert.True(tokens.CanRenew);
    }

    [Fact]
    public async Task Provider_IsAskedEveryTime()
    {
        var calls = 0;
        var tokens = Source(o => o.TokenProvider = _ => ValueTask.FromResult("p-" + ++calls));
        Assert.Equal("p-1", await tokens.GetAsync(false, CancellationToken.None));
        Assert.Equal("p-2", await tokens.GetAsync(false, CancellationToken.None));
        Assert.True(tokens.LastWasFresh);
        Assert.Empty(_handler.Requests);
    }

    [Fact]
    public async Task FixedToken_CannotBeRenewed()
    {
        var tokens = Source(o => o.AccessToken = "fixed");
        Assert.Equal("fixed", await tokens.GetAsync(forceNew: true, CancellationToken.None));
        Assert.False(tokens.CanRenew);
        Assert.Empty(_handler.Requests);
    }

    [Fact]
    public async Task RefusedLogin_IsAnUnauthorizedException()
    {
        using var http = new HttpClient(new ScriptedHttpHandler(_ => ScriptedHttpHandler.Json("{}", HttpStatusCode.Unauthorized))) { BaseAddress = new Uri("http://server/") };
        var tokens = new TokenSource(new SignalStreamClientOptions { Username = "alice", Password = "wrong" }, http);
        var ex = await Assert.ThrowsAsync<UnauthorizedException>(() => tokens.GetAsync(false, CancellationToken.None).AsTask());
        Assert.Equal(401, ex.Status);
        Assert.DoesNotContain("wrong", ex.Message, StringComparison.Ordinal);
    }
}
