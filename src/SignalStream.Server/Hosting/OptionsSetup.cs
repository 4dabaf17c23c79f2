using SignalStream.Server.Auth;
using SignalStream.Server.Backplane;
using SignalStream.Server.Cluster;
using SignalStream.Server.Demo;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;
using SignalStream.Server.Streaming;

namespace SignalStream.Server.Hosting;

/// <summary>
/// Binds every options class (each beside the feature it configures, with its defaults and its section name) and
/// validates them at start-up.
/// </summary>
internal static class OptionsSetup
{
    public static IServiceCollection AddServerOptions(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<DataOptions>(config.GetSection(DataOptions.Section));
        services.Configure<StorageOptions>(config.GetSection(StorageOptions.Section));
        services.Configure<BackplaneOptions>(config.GetSection(BackplaneOptions.Section));
        services.Configure<AuthOptions>(config.GetSection(AuthOptions.Section));
        services.Configure<ClusterOptions>(config.GetSection(ClusterOptions.Section));
        services.Configure<WebSocketsOptions>(config.GetSection(WebSocketsOptions.Section));
        // Also one comma-separated value (--WebSockets:AllowedOrigins=https://a,https://b), which the binder skips for arrays.
        services.PostConfigure<WebSocketsOptions>(o => o.AllowedOrigins =
            [.. o.AllowedOrigins, .. (config.GetSection(WebSocketsOptions.Section)[nameof(WebSocketsOptions.AllowedOrigins)] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]);
        services.Configure<LimitsOptions>(config.GetSection(LimitsOptions.Section));
        services.Configure<ObservabilityOptions>(config.GetSection(ObservabilityOptions.Section));
        services.Configure<DemoOptions>(config.GetSection(DemoOptions.Section));
        services.AddOptions<WebSocketsOptions>().Validate(o => o.MaxMessageBytes >= 1024 && o.OutboundQueueCapacity >= 1 && o.HeartbeatInterval > TimeSpan.Zero,
            "WebSockets: MaxMessageBytes >= 1024, OutboundQueueCapacity >= 1, HeartbeatInterval > 0").ValidateOnStart();
        services.AddOptions<AuthOptions>().Validate(o => o.ClockSkew <= TimeSpan.FromSeconds(30) && o.TokenLifetime > TimeSpan.Zero,
            "Auth: ClockSkew at most 30 s, TokenLifetime positive").ValidateOnStart();
        services.AddOptions<AuthOptions>().Validate(o => o.Throttle is { Window.TotalMilliseconds: >= 1, FailuresPerUsername: >= 1, FailuresPerAddress: >= 1 } && o.Throttle.FailureDelay >= TimeSpan.Zero,
            "Auth:Throttle: Window of 1 ms or more, FailuresPerUsername and FailuresPerAddress at least 1, FailureDelay not negative").ValidateOnStart();
        services.AddOptions<BackplaneOptions>().Validate(o => o.Provider is "memory" || (o.Provider is "redis" && !string.IsNullOrEmpty(o.ConnectionString)),
            "Backplane:Provider must be memory, or redis with Backplane:ConnectionString").ValidateOnStart();
        services.AddOptions<StorageOptions>().Validate(o => o.Provider is "sqlite" or "postgres" && o.HistoryLimit > 0,
            "Storage:Provider must be sqlite or postgres; HistoryLimit positive").ValidateOnStart();
        return services;
    }
}
