using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>Access tokens as an attacker would make them: forged, edited, expired, mis-signed.</summary>
public static class Tokens
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>Every kind of bad token <see cref="Forge"/> makes; each must get 401.</summary>
    public static readonly string[] BadKinds =
    [
        "empty", "garbage", "bad-base64", "two-segments", "huge", "payload-edited", "header-edited", "signature-stripped",
        "expired", "nbf-future", "iat-future", "no-exp", "alg-none", "alg-none-unsigned-empty", "hs256-other-key",
        "hs256-public-key", "rs256", "es256", "wrong-aud", "no-aud", "wrong-iss", "no-iss", "no-sub", "unknown-user",
    ];

    /// <summary>A token of <paramref name="kind"/> naming <paramref name="userId"/>, with everything else right.</summary>
    public static string Forge(string kind, string userId, string validToken)
    {
        var now = DateTime.UtcNow;
        var key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(TestServer.SigningKey)) { KeyId = "signalstream-1" };
        var ours = new SigningCredentials(key, SecurityAlgorithms.HmacSha256);

        string Sign(SigningCredentials? credentials = null, string? issuer = "signalstream", string? audience = "signalstream",
            DateTime? expires = null, DateTime? notBefore = null, DateTime? issuedAt = null, string? sub = null, bool withExp = true)
        {
            var claims = new Dictionary<string, object> { ["jti"] = Guid.NewGuid().ToString("N") };
            if (sub is not "") claims["sub"] = sub ?? userId;
            return Handler.CreateToken(new SecurityTokenDescriptor
            {
                Issuer = issuer,
                Audience = audience,
                Expires = withExp ? expires ?? now.AddMinutes(10) : null,
                NotBefore = notBefore ?? now.AddMinutes(-1),
                IssuedAt = issuedAt ?? now.AddMinutes(-1),
                Claims = claims,
                SigningCredentials = credentials ?? ours,
            });
        }

        var parts = validToken.Split('.');
        return kind switch
        {
            "valid" => Sign(),
            "empty" => "",
            "garbage" => "not-a-token-at-all-0123456789",
            "bad-base64" => $"{parts[0]}.!!!*not~base64*!!!.{parts[2]}",
            "two-segments" => $"{parts[0]}.{parts[1]}",
            "huge" => $"{parts[0]}.{Base64Url(new string('A', 15_000))}.{parts[2]}", // a 20 KB token
            "payload-edited" => $"{parts[0]}.{EditJson(parts[1], o => { o["tier"] = "INSTITUTIONAL"; o["exp"] = ((DateTimeOffset)now.AddDays(30)).ToUnixTimeSeconds(); })}.{parts[2]}",
            "header-edited" => $"{EditJson(parts[0], o => o["kid"] = "other")}.{parts[1]}.{parts[2]}",
            "signature-stripped" => $"{parts[0]}.{parts[1]}.",
            "expired" => Sign(expires: now.AddMinutes(-2), notBefore: now.AddMinutes(-20), issuedAt: now.AddMinutes(-20)),
            "nbf-future" => Sign(notBefore: now.AddMinutes(5), issuedAt: now),
            "iat-future" => Sign(issuedAt: now.AddMinutes(5)),
            "no-exp" => Sign(withExp: false),
            "alg-none" => $"{Base64Url("""{"alg":"none","typ":"JWT"}""")}.{parts[1]}.",
            "alg-none-unsigned-empty" => $"{Base64Url("""{"alg":"none"}""")}.{parts[1]}",
            "hs256-other-key" => Sign(new SigningCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(48)) { KeyId = "signalstream-1" }, SecurityAlgorithms.HmacSha256)),
            "hs256-public-key" => Sign(new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(RSA.Create(2048).ExportSubjectPublicKeyInfoPem())) { KeyId = "signalstream-1" }, SecurityAlgorithms.HmacSha256)),
            "rs256" => Sign(new SigningCredentials(new RsaSecurityKey(RSA.Create(2048)) { KeyId = "signalstream-1" }, SecurityAlgorithms.RsaSha256)),
            "es256" => Sign(new SigningCredentials(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "signalstream-1" }, SecurityAlgorithms.EcdsaSha256)),
            "wrong-aud" => Sign(audience: "someone-else"),
            "no-aud" => Sign(audience: null),
            "wrong-iss" => Sign(issuer: "https://evil.example"),
            "no-iss" => Sign(issuer: null),
            "no-sub" => Sign(sub: ""),
            "unknown-user" => Sign(sub: Guid.NewGuid().ToString("N")),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }

    public static string Base64Url(string text) => Base64Url(Encoding.UTF8.GetBytes(text));

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }

    private static string EditJson(string segment, Action<Dictionary<string, object>> edit)
    {
        var document = JsonSerializer.Deserialize<Dictionary<string, object>>(FromBase64Url(segment))!;
        edit(document);
        return Base64Url(JsonSerializer.Serialize(document));
    }
}
