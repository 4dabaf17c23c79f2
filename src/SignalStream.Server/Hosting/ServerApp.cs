using Microsoft.Extensions.Options;
using SignalStream.Server.Admin;
using SignalStream.Server.Auth;
using SignalStream.Server.Backplane;
using SignalStream.Server.Cluster;
using SignalStream.Server.Demo;
using SignalStream.Server.Fanout;
using SignalStream.Server.Http;
using SignalStream.Server.Ingest;
using SignalStream.Server.Observability;
using SignalStream.Server.Polling;
using SignalStream.Server.Storage;
using SignalStream.Server.Streaming;
using SignalStream.Server.Transport;
using SignalStream.Server.Users;

namespace SignalStream.Server.Hosting;

/// <summary>Composes the service. Tests build it the same way, with their own arguments.</summary>
public static class ServerApp
{
    public const string DefaultUrls = "http://localhost:9001";

    /// <param name="configure">Last word on services before the app is built (tests add log capture here).</param>
    public static WebApplication Build(string[] args, TextWriter? console = null, Action<WebApplicationBuilder>? configure = null)
    {
        console ??= Console.Out;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = ExpandSwitches(args),
            // appsettings.json and the dashboard are built into the output folder: found wherever the server
            // is started from (with the working directory as content root, a server started elsewhere ran
            // without its logging settings and wrote eight framework log lines per request).
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });
        if (string.IsNullOrEmpty(builder.Configuration["Urls"]) && string.IsNullOrEmpty(builder.Configuration["urls"]))
            builder.WebHost.UseUrls(DefaultUrls);
        var config = builder.Configuration;
        var services = builder.Services;

        // Choices made while composing read the options as IOptions<T> will bind them (OptionsSetup).
        var limits = config.GetSection(LimitsOptions.Section).Get<LimitsOptions>() ?? new();
        var storage = config.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new();
        var backplane = config.GetSection(BackplaneOptions.Section).Get<BackplaneOptions>() ?? new();
        var demo = config.GetSection(DemoOptions.Section).Get<DemoOptions>() ?? new();
        var webSockets = config.GetSection(WebSocketsOptions.Section).Get<WebSocketsOptions>() ?? new();
        var capacity = new Capacity(limits);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // No Limits.MaxConcurrentConnections: the AcceptGate holds the same ceiling before a socket is even
            // accepted, and Kestrel's own limit costs a middleware frame on every connection.
            kestrel.Limits.MaxRequestLineSize = 32 * 1024; // a 20 KB forged token still gets its 401
            kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
            if (webSockets.ConnectionUpgrade) kestrel.UseConnectionUpgrade(); // /ws/signals upgrades outside the HTTP pipeline (Transport/ConnectionUpgrade.cs)
        });
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));

        services.AddServerOptions(config);
        builder.Logging.AddServerLogFormats();
        services.AddTracing(config);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = Problems.UseTraceId);
        services.AddBrowserCors();
        services.AddTrustedProxies(config);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(capacity);
        services.AddAcceptGate(); // never accept past the descriptor ceiling (Transport/AcceptGate.cs)
        services.AddSingleton(sp => Secrets.Load(sp.GetRequiredService<IOptions<AuthOptions>>().Value, sp.GetRequiredService<IOptions<DataOptions>>().Value, console));
        services.AddSingleton<ServerMetrics>();
        services.AddSingleton<CloseLog>();

        // Auth
        services.AddSingleton<TokenService>();
        services.AddSingleton<ExternalTokens>();
        services.AddSingleton<Passwords>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<LocalFailureCounter>();

        // Storage: one provider, chosen here.
        if (storage.Provider == "postgres")
        {
            services.AddSingleton<PostgresDatabase>();
            services.AddSingleton<IStorageHealth>(sp => sp.GetRequiredService<PostgresDatabase>());
            services.AddSingleton<ISignalStore, PostgresSignalStore>();
            services.AddSingleton<IUserStore, PostgresUserStore>();
        }
        else
        {
            services.AddSingleton<SqliteDatabase>();
            services.AddSingleton<IStorageHealth>(sp => sp.GetRequiredService<SqliteDatabase>());
            services.AddSingleton<ISignalStore, SqliteSignalStore>();
            services.AddSingleton<IUserStore, SqliteUserStore>();
        }

        // Backplane: one node in memory, or several over Redis.
        if (backplane.Provider == "redis")
        {
            services.AddSingleton<RedisConnection>();
            services.AddSingleton<IReadinessCheck>(sp => sp.GetRequiredService<RedisConnection>());
            services.AddSingleton<ISignalBackplane, RedisBackplane>();
            services.AddSingleton<ITicketStore, RedisTicketStore>();
            services.AddSingleton<IFailureCounter, RedisFailureCounter>();
            services.AddSingleton<ClusterPresence>();
            services.AddSingleton<IConnectionLimiter>(sp => sp.GetRequiredService<ClusterPresence>());
            services.AddHostedService(sp => sp.GetRequiredService<ClusterPresence>());
            services.AddSingleton<ClusterStats, RedisClusterStats>();
        }
        else
        {
            services.AddSingleton<ISignalBackplane, NoBackplane>();
            services.AddSingleton<ITicketStore, InMemoryTicketStore>();
            services.AddSingleton<IFailureCounter>(sp => sp.GetRequiredService<LocalFailureCounter>());
            services.AddSingleton<IConnectionLimiter, LocalConnectionLimiter>();
            services.AddSingleton<ClusterStats>();
        }

        // Users
        services.AddSingleton<UserDirectory>();
        services.AddHostedService<UserChangeFeed>();

        // Fan-out: the ordered feed, the hub, replay, the sweep
        services.AddSingleton<ConnectionHub>();
        services.AddSingleton<ISignalFanout>(sp => sp.GetRequiredService<ConnectionHub>());
        services.AddSingleton(sp => RecentFrames.For(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        services.AddSingleton<Replay>();
        services.AddSingleton<SignalFeed>();
        services.AddHostedService(sp => sp.GetRequiredService<SignalFeed>());
        services.AddHostedService<HubMaintenance>();

        // Streaming: admission and the session
        services.AddSingleton<StreamSession>();
        services.AddSingleton<StreamEndpoint>();

        // Ingest and demo
        services.AddSingleton<IngestService>();
        services.AddHostedService(sp => sp.GetRequiredService<IngestService>()); // the group-commit loop
        services.AddSingleton<IngestRateLimit>();
        if (demo.Enabled)
        {
            services.AddSingleton<DemoSeeder>();
            services.AddHostedService<DemoPublisher>();
        }

        configure?.Invoke(builder);
        var app = builder.Build();
        app.UseHeadBudget(); // first: the request of a head handed over by ConnectionUpgrade has arrived (Transport/HeadBudget.cs)
        app.UseForwardedHeaders(); // the client's address, not the proxy's, from trusted proxies only (Http/TrustedProxies.cs)
        app.UseMiddleware<RequestLogging>();
        app.UseStatusCodePages(); // an error answered without a body (no route 404, wrong method 405) gets problem+json
        app.UseWebSockets();
        app.UseCors();
        app.UseDefaultFiles();
        app.UseStaticFiles();

        app.Map(Protocol.Paths.Stream, (HttpContext context, StreamEndpoint endpoint) => endpoint.HandleAsync(context));
        app.MapIngest();
        // What pages on other origins call (Http/BrowserCors.cs); admin and ingest are not for browsers.
        var browserFacing = app.MapGroup("").RequireCors(BrowserCors.Policy);
        browserFacing.MapAuth();
        browserFacing.MapSignals();
        app.MapAdmin();
        app.MapObservability(app.Services.GetRequiredService<IOptions<ObservabilityOptions>>().Value);
        app.MapDashboardFallback();
        return app;
    }

    /// <summary>Creates or migrates storage, seeds demo users (or says how to create the first), loads keys: everything before listening.</summary>
    public static async Task PrepareAsync(WebApplication app, TextWriter? console = null)
    {
        console ??= Console.Out;
        var services = app.Services;
        _ = services.GetRequiredService<Secrets>(); // generate and print keys before anything else
        var store = services.GetRequiredService<ISignalStore>();
        await store.InitializeAsync(CancellationToken.None);
        services.GetRequiredService<SignalFeed>().StartAt(await store.GetBoundsAsync(CancellationToken.None));
        if (services.GetService<DemoSeeder>() is { } demo) await demo.SeedAsync(console, CancellationToken.None);
        else if (await services.GetRequiredService<IUserStore>().GetVersionAsync(CancellationToken.None) == 0)
            services.GetRequiredService<ILogger<IUserStore>>().NoUsersYet(Protocol.Paths.AdminUsers);
        var capacity = services.GetRequiredService<Capacity>();
        var storage = services.GetRequiredService<IOptions<StorageOptions>>().Value;
        var backplane = services.GetRequiredService<IOptions<BackplaneOptions>>().Value;
        services.GetRequiredService<ILogger<Capacity>>().Started(storage.Provider, backplane.Provider, capacity.MaxConnections, capacity.FileLimit);
    }

    /// <summary><c>--demo</c> is short for <c>--Demo:Enabled=true</c>, <c>--log-format json</c> for <c>--Logging:Console:FormatterName=json</c>.</summary>
    private static string[] ExpandSwitches(string[] args) =>
        args.Select(a => a switch
        {
            "--demo" => "--Demo:Enabled=true",
            "--log-format" => "--Logging:Console:FormatterName",
            _ when a.StartsWith("--log-format=", StringComparison.Ordinal) => "--Logging:Console:FormatterName=" + a["--log-format=".Length..],
            _ => a,
        }).ToArray();
}
