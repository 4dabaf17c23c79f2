namespace SignalStream.Client;

/// <summary>A state change. Raised on the client's connection loop: keep handlers short.</summary>
public sealed class ConnectionStateChangedEventArgs(
    ConnectionState previousState,
    ConnectionState state,
    DateTimeOffset timestamp,
    long? lastSeq,
    ReconnectContext? cause = null,
    TimeSpan? retryDelay = null) : EventArgs
{
    /// <summary>The state before.</summary>
    public ConnectionState PreviousState { get; } = previousState;
    /// <summary>The new state.</summary>
    public ConnectionState State { get; } = state;
    /// <summary>When it changed (from the client's <see cref="TimeProvider"/>).</summary>
    public DateTimeOffset Timestamp { get; } = timestamp;
    /// <summary>The last delivered seq: where the stream resumes.</summary>
    public long? LastSeq { get; } = lastSeq;
    /// <summary>Why the previous connection ended, for Reconnecting, Polling and Disconnected.</summary>
    public ReconnectContext? Cause { get; } = cause;
    /// <summary>For Reconnecting and Polling: the delay before the next WebSocket attempt.</summary>
    public TimeSpan? RetryDelay { get; } = retryDelay;
}
