using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
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

/// <summary>One accepted WebSocket, driven by the test.</summary>
public sealed class FakeConnection
{
    private readonly WebSocket _socket;
    private readonly Channel<string> _received = Channel.CreateUnbounded<string>();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    internal FakeConnection(WebSocket socket, IQueryCollection query, string authorization, CancellationToken shutdown)
    {
        _socket = socket;
        Query = query;
        Authorization = authorization;
        var registration = shutdown.Register(() =>
        {
            if (_completion.TrySetResult())
                SafeAbort();
        });
        _completion.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        _ = ReceiveLoopAsync();
    }

    public IQueryCollection Query { get; }
    public string Authorization { get; }
    public Task Completion => _completion.Task;

    /// <summary>The client's close status, once it closed.</summary>
    public WebSocketCloseStatus? ClientCloseStatus { get; private set; }

    public long? AfterSeq => long.TryParse(Query["after_seq"], out var v) ? v : null;

    public async Task SendAsync(string json)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public async Task SendBinaryAsync(byte[] bytes)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public Task SendWelcomeAsync(long lastSeq, int heartbeatMs = 30_000, Tier tier = Tier.Starter) =>
        SendAsync(JsonSerializer.Serialize(new WelcomeMessage("conn", "u1", tier, lastSeq, heartbeatMs, DateTimeOffset.UtcNow), ProtocolJson.Default.WelcomeMessage));

    public async Task SendSignalsAsync(params long[] seqs)
    {
        foreach (var seq in seqs)
            await SendAsync(JsonSerializer.Serialize(new SignalMessage(seq, FakeSignalServer.MakeSignal(seq)), ProtocolJson.Default.SignalMessage));
    }

    public Task SendReplayCompleteAsync(long from, long to, int count) =>
        SendAsync(JsonSerializer.Serialize(new ReplayCompleteMessage(from, to, count), ProtocolJson.Default.ReplayCompleteMessage));

    public async Task CloseAsync(int code, string reason = "")
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, CancellationToken.None);
        }
        catch (WebSocketException)
        {
        }
        finally
        {
            _sendLock.Release();
        }
        _completion.TrySetResult();
    }

    /// <summary>Drops the TCP connection without a close frame, as a crashed server or a broken network would.</summary>
    public void Abort()
    {
        SafeAbort();
        _completion.TrySetResult();
    }

    private void SafeAbort()
    {
        try
        {
            _socket.Abort();
        }
        catch (ObjectDisposedException)
        {
            // the request already ended
        }
    }

    /// <summary>The next text frame from the client, or null once it closed.</summary>
    public async Task<string?> ReceiveAsync(TimeSpan? timeout = null)
    {
        try
        {
            return await _received.Reader.ReadAsync().AsTask().WaitAsync(timeout ?? TestTimeouts.Default);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>The next frame of the given type, skipping others (pings, usually).</summary>
    public async Task<JsonElement> ReceiveTypeAsync(string type, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TestTimeouts.Default);
        while (true)
        {
            var text = await _received.Reader.ReadAsync(cts.Token);
            var element = JsonDocument.Parse(text).RootElement;
            if (element.GetProperty("type").GetString() == type)
                return element;
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var builder = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                    builder.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    ClientCloseStatus = result.CloseStatus;
                    break;
                }
                await _received.Writer.WriteAsync(Encoding.UTF8.GetString(builder.ToArray()));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        _received.Writer.TryComplete();
        _completion.TrySetResult();
    }
}
