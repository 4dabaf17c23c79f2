using System.Collections.Concurrent;
using SignalStream.Client.Delivery;
using SignalStream.Protocol;

namespace SignalStream.Client.Tests.Infrastructure;

/// <summary>The connection side of the <see cref="MessageDispatcher"/>, for its unit tests: records what it was asked.</summary>
internal sealed class RecordingSession : ISessionControl
{
    public ConcurrentQueue<ServerMessage> Welcomes { get; } = new();
    public ConcurrentQueue<DateTimeOffset?> TokenWarnings { get; } = new();
    public int AliveMarks;

    public Task OnWelcomeAsync(ServerMessage welcome, CancellationToken ct)
    {
        Welcomes.Enqueue(welcome);
        return Task.CompletedTask;
    }

    public void OnTokenExpiring(DateTimeOffset? expiresAt) => TokenWarnings.Enqueue(expiresAt);

    public void MarkAlive() => Interlocked.Increment(ref AliveMarks);
}
