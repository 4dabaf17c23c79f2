using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using SignalStream.Protocol;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>A polite WebSocket client that reads whole frames as protocol messages, always with a timeout.</summary>
public sealed class TestSocket(ClientWebSocket socket) : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30); // a ceiling: every wait returns with its frame

    public ClientWebSocket Inner => socket;

    /// <summary>Every frame received, in order.</summary>
    public List<ServerMessage> Received { get; } = [];

    public Task SendAsync(object message) => SendTextAsync(JsonSerializer.Serialize(message));

    public Task SendTextAsync(string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>The next frame, or null when the server closed the socket.</summary>
    public async Task<ServerMessage?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cts.Token);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage) break;
        }
        var parsed = JsonSerializer.Deserialize(message.ToArray(), ProtocolJson.Default.ServerMessage)!;
        Received.Add(parsed);
        return parsed;
    }

    /// <summary>Reads until a frame of <paramref name="type"/> arrives; fails on close or timeout.</summary>
    public async Task<ServerMessage> ExpectAsync(string type, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"no {type} frame in time");
            var message = await ReceiveAsync(left) ?? throw new InvalidOperationException($"closed ({socket.CloseStatus}) while waiting for {type}");
            if (message.Type == type) return message;
        }
    }

    /// <summary>Reads signals until <paramref name="count"/> have arrived.</summary>
    public async Task<List<ServerMessage>> ReceiveSignalsAsync(int count, TimeSpan? timeout = null)
    {
        var signals = new List<ServerMessage>();
        while (signals.Count < count) signals.Add(await ExpectAsync(MessageTypes.Signal, timeout));
        return signals;
    }

    /// <summary>Reads (and keeps) frames until the server closes; answers its close code.</summary>
    public async Task<int> ExpectCloseAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        try
        {
            while (await ReceiveAsync(deadline - DateTime.UtcNow) is not null) { }
        }
        catch (WebSocketException) when (socket.CloseStatus is null)
        {
            return 0; // aborted without a close frame
        }
        return (int)(socket.CloseStatus ?? 0);
    }

    /// <summary>Proves nothing more arrives by a ping round trip: frames are in order, so anything sent before the pong shows up first.</summary>
    public async Task<List<ServerMessage>> DrainUntilPongAsync()
    {
        var ts = Random.Shared.Next();
        await SendAsync(new { type = "ping", ts });
        var frames = new List<ServerMessage>();
        while (true)
        {
            var message = await ReceiveAsync() ?? throw new InvalidOperationException("closed");
            if (message.Type == MessageTypes.Pong && message.Ts == ts) return frames;
            frames.Add(message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (socket.State == WebSocketState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
        }
        socket.Dispose();
    }
}
