using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SignalStream.Server.Auth;

/// <summary>A token that passed validation: whose it is and when it stops being good.</summary>
public readonly record struct ValidatedToken(string UserId, DateTimeOffset ExpiresAt);

/// <summary>Issues and validates our HS256 access tokens. The one place their rules live.</summary>
public sealed class TokenService
{
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly SigningCredentials _credentials;
    private readonly AuthOptions _options;
    private readonly TimeProvider _time;

    public TokenService(Secrets secrets, IOptions<AuthOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        var key = new SymmetricSecurityKey(secrets.SigningKey) { KeyId = "signalstream-1" };
        _credentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256);
        ValidationParameters = new TokenValidationParameters
        {
            IssuerSigningKey = key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256], // pinned: no "none", no RS/HS confusion
            ValidIssuer = _options.Issuer,
            ValidAudience = _options.Audience,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = _options.ClockSkew,
            NameClaimType = JwtRegisteredClaimNames.Sub,
            // nbf/iat in the future are refused by the lifetime check (nbf) and by this (iat).
            LifetimeValidator = (notBefore, expires, token, p) => ValidateLifetime(notBefore, expires, token, p),
        };
    }

    public TokenValidationParameters ValidationParameters { get; }

    public TimeSpan Lifetime => _options.TokenLifetime;

    public string Issue(string userId)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = _options.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + _options.TokenLifetime,
            Claims = new Dictionary<string, object> { [JwtRegisteredClaimNames.Sub] = userId, [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N") },
            SigningCredentials = _credentials,
        });
    }

    public async Task<ValidatedToken?> ValidateAsync(string? token)
    {
        if (string.IsNullOrWhiteSpace(token)) return null;
        var result = await _handler.ValidateTokenAsync(token, ValidationParameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt) return null;
        var sub = jwt.Subject;
        return string.IsNullOrEmpty(sub) ? null : new ValidatedToken(sub, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero));
    }

    private bool ValidateLifetime(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters p)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        if (expires is null || expires.Value + p.ClockSkew < now) return false;
        if (notBefore is not null && notBefore.Value - p.ClockSkew > now) return false;
        return token is not JsonWebToken jwt || jwt.IssuedAt == DateTime.MinValue || jwt.IssuedAt - p.ClockSkew <= now;
    }
}
