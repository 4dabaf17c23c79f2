using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Auth;

[Trait("Kind", "Functional")]
public sealed class AuthEndpointsTests : IAsyncLifetime
{
    private const string ExternalSecret = "external-issuer-shared-secret-0123456789abcdef";
    private readonly RSA _externalRsa = RSA.Create(2048);
    private string _jwksFile = "";
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _jwksFile = Path.Combine(Path.GetTempPath(), $"jwks-{Guid.NewGuid():N}.json");
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_externalRsa.ExportParameters(false)) { KeyId = "ext-1" });
        await File.WriteAllTextAsync(_jwksFile, $$"""{"keys":[{"kty":"RSA","kid":"ext-1","use":"sig","alg":"RS256","n":"{{jwk.N}}","e":"{{jwk.E}}"}]}""");
        _server = await TestServer.StartAsync(
            "--Auth:External:Issuer=https://idp.example", "--Auth:External:Audience=signalstream-exchange",
            $"--Auth:External:SigningKey={ExternalSecret}", $"--Auth:External:JwksFile={_jwksFile}");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        File.Delete(_jwksFile);
        _externalRsa.Dispose();
    }

    [Fact]
    public async Task Token_WithPassword_IssuesBearerWithUserAndTierFromStore()
    {
        var user = await _server.CreateUserAsync(Tier.Professional);
        using var response = await _server.Http.PostAsJsonAsync(Paths.Token, new { username = user.Username, password = TestServer.Password });
        var body = (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.TokenResponse))!;
        Assert.Equal("Bearer", body.TokenType);
        Assert.Equal(900, body.ExpiresIn);
        Assert.Equal(user.Id, body.UserId);
        Assert.Equal(Tier.Professional, body.Tier);
        var jwt = new JsonWebToken(body.AccessToken);
        Assert.Equal(user.Id, jwt.Subject);
        Assert.Equal("signalstream", jwt.Issuer);
        Assert.Contains("signalstream", jwt.Audiences);
        Assert.Equal("HS256", jwt.Alg);
        Assert.False(jwt.TryGetPayloadValue<string>("tier", out _)); // the tier is never a claim
    }

    [Theory]
    [InlineData("wrong password")]
    [InlineData(null)]
    public async Task Token_WrongPasswordOrUnknownUser_Returns401Problem(string? password)
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        using var response = await _server.Http.PostAsJsonAsync(Paths.Token, new { username = password is null ? "nobody-here" : user.Username, password = password ?? "whatever-password" });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Token_MissingFields_Returns400()
    {
        using var response = await _server.Http.PostAsJsonAsync(Paths.Token, new { username = "x" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Token_ForDisabledUser_Returns403()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        (await _server.UpdateUserAsync(user.Id, new { disabled = true })).Dispose();
        using var response = await _server.Http.PostAsJsonAsync(Paths.Token, new { username = user.Username, password = TestServer.Password });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Exchange_SharedSecretToken_IssuesOurTokenForTheNamedUser()
    {
        var user = await _server.CreateUserAsync(Tier.Institutional);
        var external = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://idp.example", Audience = "signalstream-exchange", Expires = DateTime.UtcNow.AddMinutes(5),
            Claims = new Dictionary<string, object> { ["sub"] = user.Username, ["tier"] = "INSTITUTIONAL" },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(ExternalSecret)), SecurityAlgorithms.HmacSha256),
        });
        var body = await ExchangeAsync(external, HttpStatusCode.OK);
        Assert.Equal(user.Id, body!.UserId);
        Assert.Equal(Tier.Institutional, body.Tier);
    }

    [Fact]
    public async Task Exchange_JwksSignedToken_IssuesOurToken_AndTierComesFromTheStoreNotTheClaim()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        var external = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://idp.example", Audience = "signalstream-exchange", Expires = DateTime.UtcNow.AddMinutes(5),
            Claims = new Dictionary<string, object> { ["sub"] = user.Username, ["tier"] = "INSTITUTIONAL" },
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(_externalRsa) { KeyId = "ext-1" }, SecurityAlgorithms.RsaSha256),
        });
        var body = await ExchangeAsync(external, HttpStatusCode.OK);
        Assert.Equal(Tier.Starter, body!.Tier);
    }

    [Fact]
    public async Task Exchange_TokenFromAnUntrustedIssuer_Returns401()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        var wrongIssuer = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://evil.example", Audience = "signalstream-exchange", Expires = DateTime.UtcNow.AddMinutes(5),
            Claims = new Dictionary<string, object> { ["sub"] = user.Username },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(ExternalSecret)), SecurityAlgorithms.HmacSha256),
        });
        await ExchangeAsync(wrongIssuer, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Token_WithOurOwnValidBearer_IssuesAFreshTokenForTheSameUser_ButNotForADisabledOne()
    {
        var user = await _server.CreateUserAsync(Tier.Professional);
        var renewed = await ExchangeAsync(user.Token, HttpStatusCode.OK);
        Assert.Equal(user.Id, renewed!.UserId);
        Assert.NotEqual(user.Token, renewed.AccessToken);
        (await _server.UpdateUserAsync(user.Id, new { disabled = true })).Dispose();
        await ExchangeAsync(renewed.AccessToken, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Ticket_WithoutToken_Returns401()
    {
        using var response = await _server.Http.PostAsync(Paths.WsTicket, null);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
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
