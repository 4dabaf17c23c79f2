using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>
/// An identity provider on loopback, as small as one can be: an OpenID Connect discovery document and a JWKS
/// of RSA keys that a test adds and retires (key rotation), counting every JWKS fetch; it signs RS256 tokens.
/// </summary>
public sealed class LocalIssuer : IAsyncDisposable
{
    public const string JwksPath = "/jwks";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, RSA> _keys = new();
    private readonly ConcurrentDictionary<string, bool> _published = new();
    private int _jwksFetches;

    private LocalIssuer(WebApplication app, Uri origin)
    {
        _app = app;
        Origin = origin;
    }

    /// <summary>Also the issuer (<c>iss</c>) of its tokens and the Authority to configure.</summary>
    public Uri Origin { get; }
    public string Issuer => Origin.ToString().TrimEnd('/');
    public string JwksUrl => Issuer + JwksPath;
    public int JwksFetches => Volatile.Read(ref _jwksFetches);

    /// <summary>While true, the discovery document and the JWKS answer 503, as a provider in an outage does.</summary>
    public bool Down { get; set; }

    public static async Task<LocalIssuer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        LocalIssuer? issuer = null;
        app.MapGet("/.well-known/openid-configuration", () => issuer!.Down ? Results.StatusCode(503) : Results.Json(new Dictionary<string, string>
        {
            ["issuer"] = issuer.Issuer,
            ["jwks_uri"] = issuer.JwksUrl,
        }));
        app.MapGet(JwksPath, () =>
        {
            if (issuer!.Down) return Results.StatusCode(503);
            Interlocked.Increment(ref issuer._jwksFetches);
            return Results.Text(issuer.Jwks(), "application/json");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        issuer = new LocalIssuer(app, new Uri(address));
        return issuer;
    }

    /// <summary>Makes a key and publishes it in the JWKS.</summary>
    public void AddKey(string kid)
    {
        _keys[kid] = RSA.Create(2048);
        _published[kid] = true;
    }

    /// <summary>Takes a key out of the JWKS (rotated out); tokens can still be signed with it.</summary>
    public void RetireKey(string kid) => _published.TryRemove(kid, out _);

    /// <summary>A key never published: its kid is unknown to anyone who trusts this issuer.</summary>
    public void AddUnpublishedKey(string kid) => _keys[kid] = RSA.Create(2048);

    public string Sign(string kid, string subject, string audience, string? issuer = null, IDictionary<string, object>? claims = null)
    {
        var all = new Dictionary<string, object>(claims ?? new Dictionary<string, object>()) { ["sub"] = subject };
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience,
            Expires = DateTime.UtcNow.AddMinutes(5),
            Claims = all,
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(_keys[kid]) { KeyId = kid }, SecurityAlgorithms.RsaSha256),
        });
    }

    private string Jwks()
    {
        var keys = _published.Keys.Select(kid =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_keys[kid].ExportParameters(false)) { KeyId = kid });
            return new Dictionary<string, string> { ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["kid"] = kid, ["n"] = jwk.N, ["e"] = jwk.E };
        });
        return System.Text.Json.JsonSerializer.Serialize(new { keys });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var key in _keys.Values) key.Dispose();
    }
}
