// The ceiling: the least a Kestrel WebSocket broadcaster can do. No auth, no storage, no
// re-serialization: a posted signal becomes one pre-serialized frame that is offered to every
// socket of the tiers allowed to see it (one list per tier, chosen with ?tier=0|1|2 at connect;
// absent means all signals). Each socket has its own bounded queue and one writer; a full queue
// closes that socket (slow consumer), so one stuck client never holds up the others.
//
// Speaks just enough of the SignalStream protocol for the load generator: the same ingest path
// (answers {"id","seq","duplicate"}), a welcome frame once registered, signal frames shaped
// {"type":"signal","seq":N,"signal":<posted body>}, and /healthz.

using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
var app = builder.Build();
app.UseWebSockets();

var hub = new Hub();

app.MapGet("/healthz", () => Results.Text("ok"));

app.Map("/ws", async (HttpContext context) =>
{
    if (!context.WebSockets.IsWebSocketRequest) { context.Response.StatusCode = 400; return; }
    var tier = int.TryParse(context.Request.Query["tier"], out var t) ? Math.Clamp(t, 0, 2) : 2;
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var connection = new Connection(socket, tier);
    hub.Add(connection);
    try
    {
        connection.Queue.Writer.TryWrite(Hub.Welcome);
        var writer = connection.RunWriterAsync();
        var buffer = new byte[256];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close) break;
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException) { }
        connection.Queue.Writer.TryComplete();
        await writer;
    }
    finally
    {
        hub.Remove(connection);
    }
});

app.MapPost("/api/v1/external-signals/sync/signal", async (HttpContext context) =>
{
    using var body = new MemoryStream();
    await context.Request.Body.CopyToAsync(body);
    var seq = hub.Broadcast(body.GetBuffer().AsSpan(0, (int)body.Length));
    context.Response.StatusCode = 201;
    context.Response.ContentType = "application/json";
    await context.Response.WriteAsync($"{{\"id\":\"{seq}\",\"seq\":{seq},\"duplicate\":false}}");
});

app.Run();

internal sealed class Hub
{
    public static readonly byte[] Welcome = "{\"type\":\"welcome\"}"u8.ToArray();
    private static readonly byte[] Prefix = "{\"type\":\"signal\",\"seq\":"u8.ToArray();
    private static readonly byte[] Middle = ",\"signal\":"u8.ToArray();

    private readonly Lock _gate = new();
    private readonly List<Connection>[] _byTier = [[], [], []];
    private long _seq;

    public void Add(Connection c) { lock (_gate) _byTier[c.Tier].Add(c); }
    public void Remove(Connection c) { lock (_gate) _byTier[c.Tier].Remove(c); }

    /// <summary>One frame, built once, offered to every socket allowed to see it, in seq order.</summary>
    public long Broadcast(ReadOnlySpan<byte> signalJson)
    {
        var minTier = MinTier(signalJson);
        lock (_gate)
        {
            var seq = ++_seq;
            var digits = Encoding.ASCII.GetBytes(seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var frame = new byte[Prefix.Length + digits.Length + Middle.Length + signalJson.Length + 1];
            var span = frame.AsSpan();
            Prefix.CopyTo(span);
            digits.CopyTo(span[Prefix.Length..]);
            Middle.CopyTo(span[(Prefix.Length + digits.Length)..]);
            signalJson.CopyTo(span[(Prefix.Length + digits.Length + Middle.Length)..]);
            span[^1] = (byte)'}';
            for (var tier = minTier; tier <= 2; tier++)
                foreach (var c in _byTier[tier])
                    if (!c.Queue.Writer.TryWrite(frame)) c.Overflow();
            return seq;
        }
    }

    private static int MinTier(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        var depth = 0;
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) depth++;
            else if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray) depth--;
            else if (depth == 1 && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("min_tier"u8))
            {
                reader.Read();
                if (reader.ValueTextEquals("PROFESSIONAL"u8)) return 1;
                if (reader.ValueTextEquals("INSTITUTIONAL"u8)) return 2;
                return 0;
            }
        }
        return 0;
    }
}

internal sealed class Connection(WebSocket socket, int tier)
{
    public int Tier { get; } = tier;
    public Channel<byte[]> Queue { get; } = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(256)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full
    });

    private readonly CancellationTokenSource _abort = new();

    public void Overflow()
    {
        Queue.Writer.TryComplete();
        _abort.Cancel();
    }

    public async Task RunWriterAsync()
    {
        try
        {
            var reader = Queue.Reader;
            while (await reader.WaitToReadAsync(_abort.Token))
                while (reader.TryRead(out var frame))
                    await socket.SendAsync(frame, WebSocketMessageType.Text, true, _abort.Token);
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            socket.Abort();
        }
    }
}
