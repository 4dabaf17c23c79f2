using Microsoft.Extensions.Logging;
using SignalStream.Client.Delivery;
using SignalStream.Protocol;

namespace SignalStream.Client.Connection;

/// <summary>
/// What the consumer sees of the connection: its <see cref="ConnectionState"/>, the user's tier, and
/// whether the first connection is up (what <see cref="SignalStreamClient.StartAsync"/> waits for).
/// Each change is announced once, through <see cref="ClientEvents"/>.
/// </summary>
internal sealed class ConnectionStatus(ClientEvents events, ResumeState resume, TimeProvider time, ILogger logger)
{
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ConnectionState _state = ConnectionState.Disconnected;
    private Tier? _tier;

    public ConnectionState State
    {
        get { lock (_lock) return _state; }
    }

    public Tier? Tier => _tier;

    /// <summary>Completes when the first connection is up; fails when the client gave up before.</summary>
    public Task Started => _started.Task;

    public bool HasStarted => _started.Task.IsCompletedSuccessfully;

    public void Set(ConnectionState state, ReconnectContext? cause = null, TimeSpan? retryDelay = null)
    {
        ConnectionState previous;
        lock (_lock)
        {
            previous = _state;
            // Reconnecting and Polling repeat on every attempt, each with its new delay.
            if (previous == state && state is not (ConnectionState.Reconnecting or ConnectionState.Polling))
                return;
            _state = state;
        }
        events.OnStateChanged(new ConnectionStateChangedEventArgs(previous, state, time.GetUtcNow(), resume.LastSeq, cause, retryDelay));
    }

    public void SetTier(Tier? tier)
    {
        if (tier is not { } value || _tier == value)
            return;
        _tier = value;
        Log.TierChanged(logger, value.ToWire());
        events.OnTierChanged(value);
    }

    /// <summary>The first connection (or first poll) is up; true the first time only.</summary>
    public bool MarkStarted() => _started.TrySetResult();

    /// <summary>The client ended before it ever started: <see cref="Started"/> fails with <paramref name="reason"/>.</summary>
    public void FailStart(Exception reason) => _started.TrySetException(reason);
}
