namespace SignalStream.Server.Auth;

/// <summary>The <c>Auth</c> configuration section (docs/protocol.md, "Running and configuration").</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    public string? SigningKey { get; set; }
    public string Issuer { get; set; } = "signalstream";
    public string Audience { get; set; } = "signalstream";
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(15);
    public string? AdminApiKey { get; set; }
    public string? PublisherApiKey { get; set; }
    /// <summary>At most 30 s: the platform's default of 5 minutes keeps expired tokens alive too long.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan TicketLifetime { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>How long before expiry a live connection gets <c>token_expiring</c> (at most half the lifetime).</summary>
    public TimeSpan ExpiryNotice { get; set; } = TimeSpan.FromSeconds(60);
    public ExternalIssuerOptions External { get; set; } = new();
    public LoginThrottleOptions Throttle { get; set; } = new();
}
