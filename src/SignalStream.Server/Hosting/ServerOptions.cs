using SignalStream.Protocol;

namespace SignalStream.Server.Hosting;

// Every setting of the service, with its default, in one place. Section names are the contract's
// configuration keys (docs/protocol.md, "Running and configuration").

public sealed class DataOptions
{
    /// <summary>Where the SQLite database and generated keys live.</summary>
    public string Directory { get; set; } = "data";
}

public sealed class StorageOptions
{
    public string Provider { get; set; } = "sqlite";
    /// <summary>Defaults to <c>Data Source={Data:Directory}/signals.db</c>.</summary>
    public string? ConnectionString { get; set; }
    /// <summary>How many of the newest signals history keeps for replay and the REST list.</summary>
    public int HistoryLimit { get; set; } = 100_000;
}

public sealed class BackplaneOptions
{
    public string Provider { get; set; } = "memory";
    public string? ConnectionString { get; set; }
}

public sealed class ClusterOptions
{
    /// <summary>This node's name in the cluster; unique per process by default, so a restarted node is a new node.</summary>
    public string NodeId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
    /// <summary>A node whose heartbeat is older than this is dead: its connections stop counting.</summary>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

public sealed class AuthOptions
{
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
}

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

public sealed class WebSocketsOptions
{
    /// <summary>When false, <c>/ws/signals</c> answers 503 without upgrading (clients fall back to polling).</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>Exact origins allowed to open a socket; empty means the server's own origin only.</summary>
    public string[] AllowedOrigins { get; set; } = [];
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);
    public int MaxMessageBytes { get; set; } = 64 * 1024;
    public int OutboundQueueCapacity { get; set; } = 256;
    /// <summary>Live signals held while a connection replays history; overflow closes it 4004.</summary>
    public int ReplayBufferCapacity { get; set; } = 4096;
    public int MessagesPerSecond { get; set; } = 20;
    public int MaxBadFrames { get; set; } = 5;
    /// <summary>
    /// The kernel send buffer of each accepted socket (0: the kernel's own, autotuned up to
    /// <c>net.ipv4.tcp_wmem</c>, 4 MB here). A slow consumer's backlog should sit in its bounded
    /// queue, where it is counted and ends in 4004, not megabytes deep in the kernel, unseen,
    /// for every socket. 64 KB still carries thousands of signals a second on a slow link.
    /// </summary>
    public int SendBufferBytes { get; set; } = 64 * 1024;
}

public sealed class LimitsOptions
{
    public int ConnectionsPerUser { get; set; } = 10;
    /// <summary>Connections this process accepts; 0 derives it from the process's file-descriptor limit.</summary>
    public int MaxConnections { get; set; }
    public int IngestPerSecond { get; set; } = 500;
    public int IngestMaxBodyBytes { get; set; } = 64 * 1024;
    public TimeSpan IngestBodyTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

public sealed class ObservabilityOptions
{
    /// <summary><c>/ws/stats</c> without the admin key.</summary>
    public bool PublicStats { get; set; }
    /// <summary><c>/metrics</c> without the admin key.</summary>
    public bool PublicMetrics { get; set; } = true;
}

public sealed class DemoOptions
{
    public bool Enabled { get; set; }
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(3);
    /// <summary>Seed one user per tier into an empty user store.</summary>
    public bool SeedUsers { get; set; } = true;
}

internal static class OptionsSetup
{
    public static IServiceCollection AddServerOptions(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<DataOptions>(config.GetSection("Data"));
        services.Configure<StorageOptions>(config.GetSection("Storage"));
        services.Configure<BackplaneOptions>(config.GetSection("Backplane"));
        services.Configure<AuthOptions>(config.GetSection("Auth"));
        services.Configure<ClusterOptions>(config.GetSection("Cluster"));
        services.Configure<WebSocketsOptions>(config.GetSection("WebSockets"));
        // Also one comma-separated value (--WebSockets:AllowedOrigins=https://a,https://b), which the binder skips for arrays.
        services.PostConfigure<WebSocketsOptions>(o => o.AllowedOrigins =
            [.. o.AllowedOrigins, .. (config["WebSockets:AllowedOrigins"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]);
        services.Configure<LimitsOptions>(config.GetSection("Limits"));
        services.Configure<ObservabilityOptions>(config.GetSection("Observability"));
        services.Configure<DemoOptions>(config.GetSection("Demo"));
        services.AddOptions<WebSocketsOptions>().Validate(o => o.MaxMessageBytes >= 1024 && o.OutboundQueueCapacity >= 1 && o.HeartbeatInterval > TimeSpan.Zero,
            "WebSockets: MaxMessageBytes >= 1024, OutboundQueueCapacity >= 1, HeartbeatInterval > 0").ValidateOnStart();
        services.AddOptions<AuthOptions>().Validate(o => o.ClockSkew <= TimeSpan.FromSeconds(30) && o.TokenLifetime > TimeSpan.Zero,
            "Auth: ClockSkew at most 30 s, TokenLifetime positive").ValidateOnStart();
        services.AddOptions<BackplaneOptions>().Validate(o => o.Provider is "memory" || (o.Provider is "redis" && !string.IsNullOrEmpty(o.ConnectionString)),
            "Backplane:Provider must be memory, or redis with Backplane:ConnectionString").ValidateOnStart();
        services.AddOptions<StorageOptions>().Validate(o => o.Provider is "sqlite" or "postgres" && o.HistoryLimit > 0,
            "Storage:Provider must be sqlite or postgres; HistoryLimit positive").ValidateOnStart();
        return services;
    }
}
