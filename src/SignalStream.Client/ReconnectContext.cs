namespace SignalStream.Client;

/// <summary>What a <see cref="IReconnectPolicy"/> decides from.</summary>
/// <param name="PreviousRetryCount">Attempts that failed since the last connection that reached <c>welcome</c> (0 right after losing a good connection).</param>
/// <param name="ElapsedTime">Time since the last good connection was lost.</param>
/// <param name="Reason">Why the connection ended.</param>
/// <param name="CloseStatus">The WebSocket close code, when the server closed the connection.</param>
/// <param name="CloseDescription">The server's close reason text, if any.</param>
/// <param name="HttpStatusCode">The HTTP status of a refused upgrade, if any.</param>
/// <param name="Exception">The error, if one was thrown.</param>
public sealed record ReconnectContext(
    int PreviousRetryCount,
    TimeSpan ElapsedTime,
    DisconnectReason Reason,
    int? CloseStatus = null,
    string? CloseDescription = null,
    int? HttpStatusCode = null,
    Exception? Exception = null);
