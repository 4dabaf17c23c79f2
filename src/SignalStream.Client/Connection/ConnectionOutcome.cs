namespace SignalStream.Client.Connection;

/// <summary>How one connection attempt ended, as the <see cref="ConnectionLoop"/> decides from it.</summary>
/// <param name="Reason">Why it ended.</param>
/// <param name="Welcomed">Whether it reached <c>welcome</c> (a good connection resets the backoff).</param>
/// <param name="Stopped">The client itself was stopping.</param>
/// <param name="CloseStatus">The server's close code.</param>
/// <param name="CloseDescription">The server's close reason text.</param>
/// <param name="HttpStatus">The HTTP status of a refused upgrade or login.</param>
/// <param name="Exception">The error, if one was thrown.</param>
/// <param name="StaleToken">A cached token was refused: a new one may well be accepted.</param>
internal sealed record ConnectionOutcome(
    DisconnectReason Reason,
    bool Welcomed,
    bool Stopped = false,
    int? CloseStatus = null,
    string? CloseDescription = null,
    int? HttpStatus = null,
    Exception? Exception = null,
    bool StaleToken = false)
{
    public static ConnectionOutcome StoppedByClient(bool welcomed) => new(DisconnectReason.Closed, welcomed, Stopped: true);

    /// <summary>
    /// Reads an upgrade the server did not accept: 401/403 are refused credentials (a 401 to a cached
    /// token may only mean the token went stale); no answer, a broken handshake or 429 are connection
    /// failures to retry; any other HTTP error refuses the WebSocket itself, so the client polls REST.
    /// <paramref name="httpStatus"/> is 0 when there was no answer.
    /// </summary>
    public static ConnectionOutcome UpgradeFailed(int httpStatus, Exception exception, bool tokenWasCached) => httpStatus switch
    {
        401 => new(DisconnectReason.Unauthorized, false, HttpStatus: httpStatus, Exception: exception, StaleToken: tokenWasCached),
        403 => new(DisconnectReason.Unauthorized, false, HttpStatus: httpStatus, Exception: exception),
        0 or 101 or 429 => new(DisconnectReason.ConnectionFailed, false, HttpStatus: httpStatus == 0 ? null : httpStatus, Exception: exception),
        _ => new(DisconnectReason.UpgradeRefused, false, HttpStatus: httpStatus, Exception: exception),
    };

    /// <summary>What the reconnect policy is told.</summary>
    public ReconnectContext ToContext(int previousRetryCount, TimeSpan elapsed) =>
        new(previousRetryCount, elapsed, Reason, CloseStatus, CloseDescription, HttpStatus, Exception);
}
