using SignalStream.Protocol;

namespace SignalStream.Client;

/// <summary>The state of a <see cref="SignalStreamClient"/>.</summary>
public enum ConnectionState
{
    /// <summary>Not started, or stopped for good.</summary>
    Disconnected,
    /// <summary>Opening the first connection.</summary>
    Connecting,
    /// <summary>The WebSocket is open and <c>welcome</c> has arrived.</summary>
    Connected,
    /// <summary>The connection was lost; waiting for the policy's delay or opening a new one.</summary>
    Reconnecting,
    /// <summary>The WebSocket cannot be opened; signals come from polling the REST list while the socket is retried.</summary>
    Polling,
}

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

/// <summary>A signal delivered to the consumer: new, visible, in seq order.</summary>
public sealed class SignalReceivedEventArgs(Signal signal) : EventArgs
{
    /// <summary>The stored signal.</summary>
    public Signal Signal { get; } = signal;
}

/// <summary>How missed signals were recovered.</summary>
public enum ResumeSource
{
    /// <summary>The server replayed them on the WebSocket (<c>replay_complete</c>).</summary>
    Replay,
    /// <summary>The client fetched them from the REST list (<c>resync_required</c>).</summary>
    Rest,
}

/// <summary>Missed signals were recovered after a (re)connect.</summary>
public sealed class ResumedEventArgs(ResumeSource source, long? afterSeq, int count, long? lastSeq) : EventArgs
{
    /// <summary>Replay or REST catch-up.</summary>
    public ResumeSource Source { get; } = source;
    /// <summary>The position the resume started after.</summary>
    public long? AfterSeq { get; } = afterSeq;
    /// <summary>Signals recovered (as counted by the server for a replay; delivered for REST).</summary>
    public int Count { get; } = count;
    /// <summary>The last delivered seq afterwards.</summary>
    public long? LastSeq { get; } = lastSeq;
}

/// <summary>The user's tier changed (from <c>welcome</c> or <c>tier_changed</c>).</summary>
public sealed class TierChangedEventArgs(Tier tier) : EventArgs
{
    /// <summary>The tier the stream follows from now on.</summary>
    public Tier Tier { get; } = tier;
}

/// <summary>The client stopped for good, or could not start.</summary>
public class SignalStreamException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SignalStreamException() { }

    /// <summary>Creates the exception.</summary>
    public SignalStreamException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public SignalStreamException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception from the reason the connection ended.</summary>
    public SignalStreamException(string message, ReconnectContext cause) : base(message, cause?.Exception)
    {
        Cause = cause;
    }

    /// <summary>Why the last connection ended, when known.</summary>
    public ReconnectContext? Cause { get; }

    /// <summary>Whether the credentials were refused (401/403, a failed login, or a 4500-4999 close).</summary>
    public bool IsAuthenticationFailure => Cause is { Reason: DisconnectReason.Unauthorized } or { CloseStatus: >= 4500 and <= 4999 };
}
