namespace SignalStream.Client;

/// <summary>Why a connection ended or could not be opened.</summary>
public enum DisconnectReason
{
    /// <summary>The server closed the connection; see <see cref="ReconnectContext.CloseStatus"/>.</summary>
    Closed,
    /// <summary>The server could not be reached, or the connection broke without a close frame.</summary>
    ConnectionFailed,
    /// <summary>The server answered the upgrade with an HTTP error (not 401/403): the client polls REST meanwhile.</summary>
    UpgradeRefused,
    /// <summary>The credentials were refused (401 or 403, or a login that failed).</summary>
    Unauthorized,
    /// <summary>No frame arrived for two heartbeat intervals.</summary>
    HeartbeatTimeout,
}
