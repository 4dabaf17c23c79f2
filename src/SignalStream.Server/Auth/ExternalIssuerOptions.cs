namespace SignalStream.Server.Auth;

/// <summary>
/// A trusted external identity provider whose tokens may be exchanged for ours: its keys come from a shared
/// secret, a JWKS file, a JWKS URL, or its OpenID Connect discovery document (<see cref="Authority"/>).
/// </summary>
public sealed class ExternalIssuerOptions
{
    /// <summary>The <c>iss</c> its tokens carry; with <see cref="Authority"/>, the discovery document's by default.</summary>
    public string? Issuer { get; set; }
    public string? Audience { get; set; }
    /// <summary>Shared HS256 secret (at least 32 bytes).</summary>
    public string? SigningKey { get; set; }
    /// <summary>A JWKS document on disk holding the issuer's public keys (RS256 or ES256).</summary>
    public string? JwksFile { get; set; }
    /// <summary>The issuer's JWKS served over HTTP; fetched, cached and refreshed on rotation.</summary>
    public string? JwksUrl { get; set; }
    /// <summary>An OpenID Connect issuer: its <c>/.well-known/openid-configuration</c> names the issuer and the JWKS.</summary>
    public string? Authority { get; set; }
    /// <summary>Fetch <see cref="JwksUrl"/> and <see cref="Authority"/> documents over https only (off for local development).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;
    /// <summary>The claim that names the local user.</summary>
    public string UsernameClaim { get; set; } = "sub";

    /// <summary>Keys fetched over HTTP, from a JWKS URL or a discovery document.</summary>
    public bool UsesProvider => !string.IsNullOrEmpty(JwksUrl) || !string.IsNullOrEmpty(Authority);

    public bool IsConfigured =>
        !string.IsNullOrEmpty(Authority)
        || (!string.IsNullOrEmpty(Issuer) && (!string.IsNullOrEmpty(SigningKey) || !string.IsNullOrEmpty(JwksFile) || !string.IsNullOrEmpty(JwksUrl)));

    /// <summary>
    /// What start-up requires of a provider: one of <see cref="Authority"/> and <see cref="JwksUrl"/>, as an absolute
    /// URL; an <see cref="Audience"/>, since a provider issues tokens for many apps; and with a bare JWKS URL, the
    /// <see cref="Issuer"/>, which only a discovery document could tell.
    /// </summary>
    public bool IsValid =>
        !UsesProvider
        || (!string.IsNullOrEmpty(Audience)
            && (string.IsNullOrEmpty(JwksUrl) ? IsUrl(Authority) : IsUrl(JwksUrl) && string.IsNullOrEmpty(Authority) && !string.IsNullOrEmpty(Issuer)));

    private static bool IsUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
}
