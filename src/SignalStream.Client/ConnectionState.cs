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
