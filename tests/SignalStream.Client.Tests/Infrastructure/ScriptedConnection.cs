using System.Collections.Concurrent;
using System.Threading.Channels;
using SignalStream.Client.Connection;

namespace SignalStream.Client.Tests.Infrastructure;

/// <summary>
/// A connection for unit tests of the <see cref="ConnectionLoop"/>: each attempt plays the next scripted
/// step; with none left it stays up until the client stops.
/// </summary>
internal sealed class ScriptedConnection : IStreamConnection
{
    private readonly ConcurrentQueue<Func<ConnectionOutcome>> _steps = new();
    private readonly Channel<bool> _attempts = Channel.CreateUnbounded<bool>();

    /// <summary>Each attempt's forceNewToken, in order.</summary>
    public ConcurrentQueue<bool> Attempts { get; } = new();

    public ScriptedConnection Then(Func<ConnectionOutcome> step)
    {
        _steps.Enqueue(step);
        return this;
    }

    public ScriptedConnection Then(ConnectionOutcome outcome) => Then(() => outcome);

    /// <summary>The next attempt's forceNewToken, waiting for the attempt if need be.</summary>
    public async Task<bool> NextAttemptAsync() => await _attempts.Reader.ReadAsync().AsTask().WaitAsync(TestTimeouts.Default);

    public async Task<ConnectionOutcome> RunAsync(bool forceNewToken, CancellationToken stop)
    {
        Attempts.Enqueue(forceNewToken);
        _attempts.Writer.TryWrite(forceNewToken);
        if (_steps.TryDequeue(out var step))
            return step();
        try
        {
            await Task.Delay(Timeout.Infinite, stop);
        }
        catch (OperationCanceledException)
        {
        }
        return ConnectionOutcome.StoppedByClient(welcomed: true);
    }
}
