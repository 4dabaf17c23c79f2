using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.Options;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Auth;

/// <summary>
/// Token exchange against an identity provider the test runs on loopback: keys from its discovery document
/// (<c>Auth:External:Authority</c>) or a bare <c>Auth:External:JwksUrl</c>, fetched once, refreshed when a token
/// names a new <c>kid</c>, at most once a minute however many unknown kids come (SECURITY.md); issuer and
/// audience checked; the tier from our store, never from the provider's claims.
/// </summary>
[Trait("Kind", "Security")]
public sealed class IdentityProviderExchangeTests : IAsyncLifetime
{
    private const string Audience = "signalstream-exchange";
    private LocalIssuer _issuer = null!;
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _issuer = await LocalIssuer.StartAsync();
        _issuer.AddKey("key-1");
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        await _issuer.DisposeAsync();
    }

    private async Task StartServerAsync(bool discovery = true, params string[] more) => _server = await TestServer.StartAsync(
    [
        .. more,
        discovery ? $"--Auth:External:Authority={_issuer.Issuer}" : $"--Auth:External:JwksUrl={_issuer.JwksUrl}",
        .. discovery ? Array.Empty<string>() : [$"--Auth:External:Issuer={_issuer.Issuer}"],
        $"--Auth:External:Audience={Audience}",
        "--Auth:External:RequireHttpsMetadata=false", // the loopback provider speaks plain http
    ]);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Exchange_ProviderSignedToken_IssuesOurToken_WithTheTierFromOurStore(bool discovery)
    {
        await StartServerAsync(discovery);
        var user = await _server.CreateUserAsync(Tier.Starter);
        var token = _issuer.Sign("key-1", user.Username, Audience, claims: new Dictionary<string, object> { ["tier"] = "INSTITUTIONAL" });

        var body = await ExchangeAsync(token, HttpStatusCode.OK);

        Assert.Equal(user.Id, body!.UserId);
        Assert.Equal(Tier.Starter, body.Tier);
        Assert.Equal(1, _issuer.JwksFetches);
        await ExchangeAsync(_issuer.Sign("key-1", user.Username, Audience), HttpStatusCode.OK);
        Assert.Equal(1, _issuer.JwksFetches); // cached
    }

    [Fact]
    public async Task Exchange_AfterKeyRotation_NewKidIsFetchedOnce_AndTheRotatedOutKeyIsRefused()
    {
        await StartServerAsync();
        var user = await _server.CreateUserAsync(Tier.Professional);
        await ExchangeAsync(_issuer.Sign("key-1", user.Username, Audience), HttpStatusCode.OK);
        Assert.Equal(1, _issuer.JwksFetches);

        _issuer.AddKey("key-2");
        _issuer.RetireKey("key-1");
        var body = await ExchangeAsync(_issuer.Sign("key-2", user.Username, Audience), HttpStatusCode.OK);
        Assert.Equal(Tier.Professional, body!.Tier);
        Assert.Equal(2, _issuer.JwksFetches); // one refresh for the new kid

        await ExchangeAsync(_issuer.Sign("key-1", user.Username, Audience), HttpStatusCode.Unauthorized);
        await ExchangeAsync(_issuer.Sign("key-2", user.Username, Audience), HttpStatusCode.OK);
        Assert.Equal(2, _issuer.JwksFetches);
    }

    [Fact]
    public async Task Exchange_UnknownKid_Is401_AndRefreshesTheKeysAtMostOnceAMinute()
    {
        await StartServerAsync();
        var user = await _server.CreateUserAsync(Tier.Starter);
        await ExchangeAsync(_issuer.Sign("key-1", user.Username, Audience), HttpStatusCode.OK);

        for (var i = 0; i < 5; i++)
        {
            _issuer.AddUnpublishedKey($"forged-{i}");
            await ExchangeAsync(_issuer.Sign($"forged-{i}", user.Username, Audience), HttpStatusCode.Unauthorized);
        }

        Assert.Equal(2, _issuer.JwksFetches); // the first, and one refresh for all five unknown kids
        await ExchangeAsync(_issuer.Sign("key-1", user.Username, Audience), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Exchange_AnotherIssuerOrAudience_Is401()
    {
        await StartServerAsync();
        var user = await _server.CreateUserAsync(Tier.Starter);
        await ExchangeAsync(_issuer.Sign("key-1", user.Username, Audience, issuer: "https://other-idp.example"), HttpStatusCode.Unauthorized);
        await ExchangeAsync(_issuer.Sign("key-1", user.Username, "another-app"), HttpStatusCode.Unauthorized);
        await ExchangeAsync(_issuer.Sign("key-1", user.Username, Audience), HttpStatusCode.OK);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Exchange_ProviderDownBeforeItsKeysWereFetched_Is503WithRetryAfter_NotAFailedLogin(bool discovery)
    {
        await StartServerAsync(discovery, "--Auth:Throttle:FailureDelay=00:00:00", "--Auth:Throttle:FailuresPerAddress=2", "--Auth:Throttle:FailuresPerUsername=1000");
        var user = await _server.CreateUserAsync(Tier.Starter);
        _issuer.Down = true;

        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Token);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _issuer.Sign("key-1", user.Username, Audience));
            using var response = await _server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 carries Retry-After");
        }

        // Three outages did not spend this address's two failures: a wrong password is still a plain 401.
        using var login = await _server.Http.PostAsJsonAsync(Paths.Token, new { username = user.Username, password = "not the password" });
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        Assert.Contains(_server.Logs, l => l.Contains("Identity provider unavailable", StringComparison.Ordinal));

        _issuer.Down = false; // back: the keys are fetched again (the platform retries about a second after a failure)
        using var exchanged = await Eventually.ResultAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Token);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _issuer.Sign("key-1", user.Username, Audience));
            var response = await _server.Http.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.OK) return response;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            response.Dispose();
            return null;
        }, "an exchange once the provider is back", TimeSpan.FromSeconds(50));
    }

    [Fact]
    public async Task Exchange_ValidTokenForAUserWeDoNotHave_Is403()
    {
        await StartServerAsync();
        await ExchangeAsync(_issuer.Sign("key-1", "nobody-here", Audience), HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("--Auth:External:Authority=https://idp.example")]                                                           // no audience
    [InlineData("--Auth:External:JwksUrl=https://idp.example/jwks", "--Auth:External:Audience=a")]                          // no issuer
    [InlineData("--Auth:External:Authority=idp.example", "--Auth:External:Audience=a")]                                     // not a URL
    [InlineData("--Auth:External:Authority=https://idp.example", "--Auth:External:JwksUrl=https://idp.example/jwks", "--Auth:External:Issuer=https://idp.example", "--Auth:External:Audience=a")]
    public async Task Start_WithAnIncompleteProvider_IsRefused(params string[] settings)
    {
        await Assert.ThrowsAsync<OptionsValidationException>(async () => await (await TestServer.StartAsync(settings)).DisposeAsync());
    }

    private async Task<TokenResponse?> ExchangeAsync(string externalToken, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Token);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", externalToken);
        using var response = await _server.Http.SendAsync(request);
        Assert.Equal(expected, response.StatusCode);
        return expected == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync(ProtocolJson.Default.TokenResponse) : null;
    }
}
