using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SignalStream.Protocol;

namespace SignalStream.Client.Tests.Infrastructure;

/// <summary>
/// A scripted stand-in for the server, on a real Kestrel loopback port: each accepted WebSocket is handed
/// to the test (<see cref="NextConnectionAsync"/>), which decides frame by frame what the client sees.
/// The REST list serves <see cref="Store"/> like the real server does.
/// </summary>
public sealed class FakeSignalServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<FakeConnection> _connections = Channel.CreateUnbounded<FakeConnection>();
    private readonly CancellationTokenSource _shutdown = new();
    private int _upgradeAttempts;
    private int _logins;

    private FakeSignalServer(WebApplication app) => _app = app;

    public Uri Uri { get; private set; } = null!;

    /// <summary>Status to answer an upgrade with instead of accepting it (null accepts).</summary>
    public Func<HttpContext, int?> RefuseUpgrade { get; set; } = _ => null;

    /// <summary>Signals the REST list serves (visible ones only, as the real server filters by tier).</summary>
    public ConcurrentDictionary<long, Signal> Store { get; } = new();

    /// <summary>Every REST list request's query string, in order.</summary>
    public ConcurrentQueue<string> ListRequests { get; } = new();

    /// <summary>Every upgrade request's Authorization header.</summary>
    public ConcurrentQueue<string?> UpgradeAuthorizations { get; } = new();

    public int UpgradeAttempts => Volatile.Read(ref _upgradeAttempts);

    public int Logins => Volatile.Read(ref _logins);

    /// <summary>Raised (on a Kestrel thread) for every upgrade request, accepted or not.</summary>
    public event Action<int>? UpgradeAttempted;

    public static async Task<FakeSignalServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new FakeSignalServer(app);
        app.UseWebSockets();
        app.Map(Paths.Stream, server.HandleStreamAsync);
        app.MapGet(Paths.Signals, server.HandleList);
        app.MapPost(Paths.Token, server.HandleLogin);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Uri = new Uri(address);
        return server;
    }

    public async Task<FakeConnection> NextConnectionAsync(TimeSpan? timeout = null) =>
        await _connections.Reader.ReadAsync().AsTask().WaitAsync(timeout ?? TestTimeouts.Default);

    public void Add(params long[] seqs)
    {
        foreach (var seq in seqs)
            Store[seq] = MakeSignal(seq);
    }

    public static Signal MakeSignal(long seq, string symbol = "BTC-USD") => new()
    {
        Id = "id-" + seq,
        Seq = seq,
        ExternalId = "ext-" + seq,
        Source = "fake",
        Symbol = symbol,
        Side = seq % 2 == 0 ? "SELL" : "BUY",
        EntryPrice = 100 + seq,
        MinTier = Tier.Starter,
        ReceivedAt = DateTimeOffset.UnixEpoch.AddSeconds(seq),
    };

    private async Task HandleStreamAsync(HttpContext context)
    {
        var attempt = Interlocked.Increment(ref _upgradeAttempts);
        UpgradeAuthorizations.Enqueue(context.Request.Headers.Authorization.ToString());
        UpgradeAttempted?.Invoke(attempt);
        if (RefuseUpgrade(context) is { } status)
        {
            context.Response.StatusCode = status;
            return;
        }
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = 400;
            return;
        }
        var socket = await context.WebSockets.AcceptWebSocketAsync();
        var connection = new FakeConnection(socket, context.Request.Query, context.Request.Headers.Authorization.ToString(), _shutdown.Token);
        await _connections.Writer.WriteAsync(connection);
        await connection.Completion;
    }

    private IResult HandleList(HttpContext context)
    {
        ListRequests.Enqueue(context.Request.QueryString.Value ?? "");
        var limit = int.TryParse(context.Request.Query["limit"], out var l) ? Math.Clamp(l, 1, 500) : 10;
        var all = Store.Values.OrderBy(s => s.Seq).ToList();
        var lastSeq = all.Count == 0 ? 0 : all[^1].Seq;
        Signal[] page = long.TryParse(context.Request.Query["after_seq"], out var after)
            ? all.Where(s => s.Seq > after).Take(limit).ToArray()
            : all.AsEnumerable().Reverse().Take(limit).ToArray();
        return Results.Json(new SignalPage(page, lastSeq), ProtocolJson.Default.SignalPage);
    }

    private IResult HandleLogin(TokenRequest request)
    {
        if (request.Password != "secret")
            return Results.Problem(title: "Wrong user name or password", statusCode: 401);
        var n = Interlocked.Increment(ref _logins);
        return Results.Json(new TokenResponse("login-token-" + n, "Bearer", 900, "u1", Tier.Starter), ProtocolJson.Default.TokenResponse);
    }

    public async ValueTask DisposeAsync()
    {
        await _shutdown.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _shutdown.Dispose();
    }
}
