namespace SignalStream.Server.Auth;

/// <summary>A trusted external identity provider whose tokens may be exchanged for ours.</summary>
public sealed class ExternalIssuerOptions
{
    public string? Issuer { get; set; }
    public string? Audience { get; set; }
    /// <summary>Shared HS256 secret (at least 32 bytes).</summary>
    public string? SigningKey { get; set; }
    /// <summary>A JWKS document on disk holding the issuer's public keys (RS256 or ES256).</summary>
    public string? JwksFile { get; set; }
    /// <summary>The claim that names the local user.</summary>
    public string UsernameClaim { get; set; } = "sub";

    public bool IsConfigured => !string.IsNullOrEmpty(Issuer) && (!string.IsNullOrEmpty(SigningKey) || !string.IsNullOrEmpty(JwksFile));
}
