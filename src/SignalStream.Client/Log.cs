using Microsoft.Extensions.Logging;

namespace SignalStream.Client;

/// <summary>Source-generated log messages. Event ids are never reused: retire a message, keep its number.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Connecting to {Uri}", EventName = "Connecting")]
    public static partial void Connecting(ILogger logger, Uri uri);

    [LoggerMessage(2, LogLevel.Information, "Connected: connection {ConnectionId}, tier {Tier}, server last_seq {ServerLastSeq}, resuming after {AfterSeq}", EventName = "Connected")]
    public static partial void Connected(ILogger logger, string? connectionId, string? tier, long? serverLastSeq, long? afterSeq);

    [LoggerMessage(3, LogLevel.Warning, "Connection ended ({Reason}, close {CloseStatus} {CloseDescription}, HTTP {HttpStatus})", EventName = "ConnectionEnded")]
    public static partial void ConnectionEnded(ILogger logger, DisconnectReason reason, int? closeStatus, string? closeDescription, int? httpStatus, Exception? exception);

    [LoggerMessage(4, LogLevel.Information, "Reconnecting in {Delay} (attempt {Attempt})", EventName = "ReconnectScheduled")]
    public static partial void ReconnectScheduled(ILogger logger, TimeSpan delay, int attempt);

    [LoggerMessage(5, LogLevel.Warning, "The reconnect policy stopped the client after {Reason}", EventName = "ReconnectStopped")]
    public static partial void ReconnectStopped(ILogger logger, DisconnectReason reason);

    [LoggerMessage(6, LogLevel.Warning, "Skipped a server frame that could not be read ({Error}); {Length} bytes", EventName = "InvalidFrame")]
    public static partial void InvalidFrame(ILogger logger, string error, int length);

    [LoggerMessage(7, LogLevel.Debug, "Skipped a server frame of unknown type {Type}", EventName = "UnknownFrame")]
    public static partial void UnknownFrame(ILogger logger, string type);

    [LoggerMessage(8, LogLevel.Debug, "Dropped duplicate signal seq {Seq} (last seen {LastSeq})", EventName = "DuplicateSignal")]
    public static partial void DuplicateSignal(ILogger logger, long seq, long? lastSeq);

    [LoggerMessage(9, LogLevel.Warning, "Server asked for a resync ({Reason}, oldest seq {OldestSeq}); catching up from the REST list after {AfterSeq}", EventName = "ResyncRequired")]
    public static partial void ResyncRequired(ILogger logger, string? reason, long? oldestSeq, long? afterSeq);

    [LoggerMessage(10, LogLevel.Information, "Caught up {Count} signal(s) from the REST list, now at {LastSeq}", EventName = "CaughtUp")]
    public static partial void CaughtUp(ILogger logger, int count, long? lastSeq);

    [LoggerMessage(11, LogLevel.Warning, "WebSocket refused with HTTP {Status}; polling the REST list every {Interval}", EventName = "PollingStarted")]
    public static partial void PollingStarted(ILogger logger, int status, TimeSpan interval);

    [LoggerMessage(12, LogLevel.Warning, "Polling failed", EventName = "PollFailed")]
    public static partial void PollFailed(ILogger logger, Exception exception);

    [LoggerMessage(13, LogLevel.Warning, "No frame for {Silence}; treating the connection as dead", EventName = "HeartbeatTimeout")]
    public static partial void HeartbeatTimeout(ILogger logger, TimeSpan silence);

    [LoggerMessage(14, LogLevel.Information, "Token expiring at {ExpiresAt}; refreshing in-band", EventName = "TokenRefreshing")]
    public static partial void TokenRefreshing(ILogger logger, DateTimeOffset? expiresAt);

    [LoggerMessage(15, LogLevel.Warning, "Token expiring at {ExpiresAt} but the credential is a fixed token; the server will close the connection", EventName = "TokenNotRenewable")]
    public static partial void TokenNotRenewable(ILogger logger, DateTimeOffset? expiresAt);

    [LoggerMessage(16, LogLevel.Warning, "Token refresh failed", EventName = "TokenRefreshFailed")]
    public static partial void TokenRefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(17, LogLevel.Warning, "Server refused a client frame: {Code}: {Message}", EventName = "ServerError")]
    public static partial void ServerError(ILogger logger, string? code, string? message);

    [LoggerMessage(18, LogLevel.Warning, "Offline queue full ({Capacity}); dropped the oldest {Type} message", EventName = "OfflineQueueOverflow")]
    public static partial void OfflineQueueOverflow(ILogger logger, int capacity, string? type);

    [LoggerMessage(19, LogLevel.Debug, "Sent {Count} queued message(s) after connecting", EventName = "OfflineQueueFlushed")]
    public static partial void OfflineQueueFlushed(ILogger logger, int count);

    [LoggerMessage(20, LogLevel.Error, "A {Event} event handler threw; the client carries on", EventName = "HandlerFailed")]
    public static partial void HandlerFailed(ILogger logger, string @event, Exception exception);

    [LoggerMessage(21, LogLevel.Information, "Tier changed to {Tier}", EventName = "TierChanged")]
    public static partial void TierChanged(ILogger logger, string? tier);

    [LoggerMessage(22, LogLevel.Debug, "Replay complete: {Count} signal(s), seq {FromSeq} to {ToSeq}", EventName = "ReplayComplete")]
    public static partial void ReplayComplete(ILogger logger, int? count, long? fromSeq, long? toSeq);

    [LoggerMessage(23, LogLevel.Error, "The client stopped unexpectedly", EventName = "LoopFailed")]
    public static partial void LoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(24, LogLevel.Warning, "The server holds another signal history (epoch {Epoch}, last seq {HistoryLastSeq}) than the one seq {LastSeq} counts in; delivering it from its start", EventName = "HistoryChanged")]
    public static partial void HistoryChanged(ILogger logger, string? epoch, long historyLastSeq, long? lastSeq);
}
