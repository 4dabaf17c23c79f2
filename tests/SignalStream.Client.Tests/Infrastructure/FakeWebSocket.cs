using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace SignalStream.Client.Tests.Infrastructure;

/// <summary>A socket for unit tests of the pieces that send: records frames and closes, can be made to fail.</summary>
public sealed class FakeWebSocket : WebSocket
{
    private WebSocketState _state = WebSocketState.Open;

    private readonly Channel<string> _sent = Channel.CreateUnbounded<string>();

    /// <summary>Every text frame sent, in order.</summary>
    public ConcurrentQueue<string> Sent { get; } = new();

    /// <summary>The next frame sent (from the start), waiting for it if need be.</summary>
    public async Task<string> NextSentAsync() => await _sent.Reader.ReadAsync().AsTask().WaitAsync(TestTimeouts.Default);

    /// <summary>Sends throw <see cref="WebSocketException"/> while true, as a connection going down does.</summary>
    public bool FailSends { get; set; }

    public bool Aborted { get; private set; }

    public WebSocketCloseStatus? ClosedWith { get; private set; }

    /// <summary>The <c>type</c> of every frame sent, in order.</summary>
    public IReadOnlyList<string> SentTypes => Sent.Select(f => JsonDocument.Parse(f).RootElement.GetProperty("type").GetString()!).ToList();

    public override WebSocketCloseStatus? CloseStatus => ClosedWith;
    public override string? CloseStatusDescription => null;
    public override WebSocketState State => _state;
    public override string? SubProtocol => null;

    public override void Abort()
    {
        Aborted = true;
        _state = WebSocketState.Aborted;
    }

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        ClosedWith = closeStatus;
        _state = WebSocketState.CloseSent;
        return Task.CompletedTask;
    }

    public override void Dispose() => _state = WebSocketState.Closed;

    public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The fake socket only sends.");

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        if (FailSends)
            throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely);
        var text = Encoding.UTF8.GetString(buffer);
        Sent.Enqueue(text);
        _sent.Writer.TryWrite(text);
        return Task.CompletedTask;
    }
}
