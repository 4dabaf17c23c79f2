using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SignalStream.Server.Auth;

/// <summary>
/// Validates tokens from the configured external issuer for token exchange: its shared HS256
/// secret or the public keys of its JWKS file, its issuer and audience, 30 s of skew at most.
/// Only the named claim is taken from it: the tier always comes from our user store.
/// </summary>
public sealed class ExternalTokens
{
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters? _parameters;
    private readonly string _usernameClaim;

    public ExternalTokens(IOptions<AuthOptions> options)
    {
        var external = options.Value.External;
        _usernameClaim = external.UsernameClaim;
        if (!external.IsConfigured) return;

        var keys = new List<SecurityKey>();
        var algorithms = new List<string>();
        if (!string.IsNullOrEmpty(external.SigningKey))
        {
            keys.Add(new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(external.SigningKey)));
            algorithms.Add(SecurityAlgorithms.HmacSha256);
        }
        if (!string.IsNullOrEmpty(external.JwksFile))
        {
            keys.AddRange(new JsonWebKeySet(File.ReadAllText(external.JwksFile)).GetSigningKeys());
            algorithms.AddRange([SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256]);
        }
        _parameters = new TokenValidationParameters
        {
            IssuerSigningKeys = keys,
            ValidAlgorithms = algorithms,
            ValidIssuer = external.Issuer,
            ValidAudience = external.Audience,
            ValidateAudience = !string.IsNullOrEmpty(external.Audience),
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = options.Value.ClockSkew,
        };
    }

    public bool IsConfigured => _parameters is not null;

    /// <summary>The local username the external token names, or null when the token is not good.</summary>
    public async Task<string?> ValidateAsync(string token)
    {
        if (_parameters is null) return null;
        var result = await _handler.ValidateTokenAsync(token, _parameters);
        return result.IsValid && result.SecurityToken is JsonWebToken jwt && jwt.TryGetPayloadValue<string>(_usernameClaim, out var name) && !string.IsNullOrEmpty(name)
            ? name
            : null;
    }
}
