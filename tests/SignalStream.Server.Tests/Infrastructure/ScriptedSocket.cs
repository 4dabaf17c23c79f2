using System.Net.WebSockets;
using System.Text;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>
/// A socket that records writes; the test may hold the next write open, or block the thread that makes it
/// (a <c>send()</c> that takes long: the writer's thread is busy until the test lets it go).
/// </summary>
public sealed class ScriptedSocket : WebSocket
{
    private readonly Lock _sync = new();
    private readonly List<string> _written = [];
    private TaskCompletionSource? _holdNext;
    private (ManualResetEventSlim Entered, ManualResetEventSlim Release)? _blockNext;

    public List<string> Written { get { lock (_sync) return [.. _written]; } }
    public WebSocketCloseStatus? CloseSent { get; private set; }
    public bool Aborted { get; private set; }

    public TaskCompletionSource HoldNextWrite()
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_sync) _holdNext = hold;
        return hold;
    }

    /// <summary>The next write blocks its thread: <c>Entered</c> is set once it does, and it returns once <c>Release</c> is.</summary>
    public (ManualResetEventSlim Entered, ManualResetEventSlim Release) BlockNextWrite()
    {
        var block = (new ManualResetEventSlim(), new ManualResetEventSlim());
        lock (_sync) _blockNext = block;
        return block;
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        TaskCompletionSource? hold;
        (ManualResetEventSlim Entered, ManualResetEventSlim Release)? block;
        lock (_sync)
        {
            _written.Add(Encoding.UTF8.GetString(buffer.Span)); // written, even while its thread is held
            (hold, _holdNext) = (_holdNext, null);
            (block, _blockNext) = (_blockNext, null);
        }
        if (block is var (entered, release))
        {
            entered.Set();
            release.Wait(TimeSpan.FromSeconds(60));
        }
        return hold is null ? ValueTask.CompletedTask : new ValueTask(hold.Task);
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        CloseSent = closeStatus;
        return Task.CompletedTask;
    }

    public override void Abort() => Aborted = true;
    public override WebSocketState State => Aborted ? WebSocketState.Aborted : CloseSent is null ? WebSocketState.Open : WebSocketState.CloseSent;
    public override WebSocketCloseStatus? CloseStatus => null;
    public override string? CloseStatusDescription => null;
    public override string? SubProtocol => null;
    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => CloseOutputAsync(closeStatus, statusDescription, cancellationToken);
    public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) => throw new NotSupportedException();
    public override void Dispose() { }
}
