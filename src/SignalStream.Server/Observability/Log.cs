namespace SignalStream.Server.Observability;

/// <summary>
/// Every log event of the server, source-generated. Event ids are never reused once retired.
/// No event takes a token, ticket, password or API key as a parameter. Retired: 2 (GeneratedSecret), 23 (ConnectionClosing).
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Listening with storage {Provider} and backplane {Backplane}; connection ceiling {MaxConnections} (descriptor limit {FileLimit})", EventName = "Started")]
    public static partial void Started(this ILogger logger, string provider, string backplane, int maxConnections, long fileLimit);

    [LoggerMessage(3, LogLevel.Information, "Seeded demo user {Username} with tier {Tier}", EventName = "SeededUser")]
    public static partial void SeededUser(this ILogger logger, string username, string tier);

    [LoggerMessage(4, LogLevel.Warning, "No user exists yet. Create the first with POST {AdminUsersPath} and the admin key (X-API-Key), or: signalstream users add <username> --password-stdin --tier <STARTER|PROFESSIONAL|INSTITUTIONAL> (SIGNALSTREAM_ADMIN_KEY set)", EventName = "NoUsersYet")]
    public static partial void NoUsersYet(this ILogger logger, string adminUsersPath);

    [LoggerMessage(10, LogLevel.Debug, "Stored signal {Seq} {Symbol} from {Source} (min tier {MinTier})", EventName = "SignalStored")]
    public static partial void SignalStored(this ILogger logger, long seq, string symbol, string source, string minTier);

    [LoggerMessage(11, LogLevel.Information, "Duplicate signal {ExternalId} from {Source}: answered with seq {Seq}", EventName = "SignalDuplicate")]
    public static partial void SignalDuplicate(this ILogger logger, string externalId, string source, long seq);

    [LoggerMessage(12, LogLevel.Warning, "Storage failed during ingest; answered 503", EventName = "IngestStorageFailed")]
    public static partial void IngestStorageFailed(this ILogger logger, Exception exception);

    [LoggerMessage(14, LogLevel.Warning, "Signal {Seq} is stored but its delivery must wait for a gap read from history, which failed; the feed's catch-up delivers it", EventName = "DeliveryDeferred")]
    public static partial void DeliveryDeferred(this ILogger logger, long seq, Exception exception);

    [LoggerMessage(13, LogLevel.Information, "Ingest refused with {Status}: {Reason}", EventName = "IngestRefused")]
    public static partial void IngestRefused(this ILogger logger, int status, string reason);

    [LoggerMessage(20, LogLevel.Debug, "Connection {ConnectionId} opened for user {UserId} ({Tier}), upgraded on the {Path} path", EventName = "ConnectionOpened")]
    public static partial void ConnectionOpened(this ILogger logger, string connectionId, string userId, string tier, string path);

    [LoggerMessage(21, LogLevel.Debug, "Connection {ConnectionId} closed by the client with {CloseCode} (0: dropped without a close)", EventName = "ConnectionClosed")]
    public static partial void ConnectionClosed(this ILogger logger, string connectionId, int closeCode);

    [LoggerMessage(22, LogLevel.Information, "Upgrade refused with {Status}: {Reason}", EventName = "UpgradeRefused")]
    public static partial void UpgradeRefused(this ILogger logger, int status, string reason);

    [LoggerMessage(24, LogLevel.Debug, "Connection {ConnectionId} failed", EventName = "ConnectionFailed")]
    public static partial void ConnectionFailed(this ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(25, LogLevel.Warning, "Replay for connection {ConnectionId} failed", EventName = "ReplayFailed")]
    public static partial void ReplayFailed(this ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(26, LogLevel.Information, "Shutting down: closing {Count} connections with 1001", EventName = "ClosingAll")]
    public static partial void ClosingAll(this ILogger logger, int count);

    [LoggerMessage(27, LogLevel.Information, "Server closed connection {ConnectionId} of user {UserId} with {CloseCode}: {Reason}", EventName = "ServerClosedConnection")]
    public static partial void ServerClosedConnection(this ILogger logger, string connectionId, string userId, int closeCode, string reason);

    [LoggerMessage(28, LogLevel.Information, "Server closed {Count} more connections in {Seconds} s without a line each; by close code: {ByCode}", EventName = "ServerClosedSummary")]
    public static partial void ServerClosedSummary(this ILogger logger, int count, int seconds, string byCode);

    [LoggerMessage(30, LogLevel.Information, "User {UserId} changed: tier {Tier}, disabled {Disabled}", EventName = "UserChanged")]
    public static partial void UserChanged(this ILogger logger, string userId, string tier, bool disabled);

    [LoggerMessage(31, LogLevel.Warning, "Reading user changes failed; will retry", EventName = "UserFeedFailed")]
    public static partial void UserFeedFailed(this ILogger logger, Exception exception);

    [LoggerMessage(32, LogLevel.Warning, "Catching up with history failed; will retry", EventName = "CatchUpFailed")]
    public static partial void CatchUpFailed(this ILogger logger, Exception exception);

    [LoggerMessage(33, LogLevel.Warning, "Publishing signal {Seq} to the backplane failed; other nodes will read it from history", EventName = "PublishFailed")]
    public static partial void PublishFailed(this ILogger logger, long seq, Exception exception);

    [LoggerMessage(34, LogLevel.Warning, "Backplane unavailable for {Operation}; working on this node alone", EventName = "BackplaneUnavailable")]
    public static partial void BackplaneUnavailable(this ILogger logger, string operation, Exception exception);

    [LoggerMessage(35, LogLevel.Information, "Node {NodeId} joined the cluster", EventName = "NodeJoined")]
    public static partial void NodeJoined(this ILogger logger, string nodeId);

    [LoggerMessage(36, LogLevel.Debug, "Backplane disconnected: signal {Seq} not published; other nodes read it from history", EventName = "PublishSkipped")]
    public static partial void PublishSkipped(this ILogger logger, long seq);

    [LoggerMessage(37, LogLevel.Warning, "Identity provider unavailable: its keys could not be fetched from {MetadataAddress}; token exchange answers 503", EventName = "IdentityProviderUnavailable")]
    public static partial void IdentityProviderUnavailable(this ILogger logger, string metadataAddress, Exception exception);

    [LoggerMessage(38, LogLevel.Information, "Fan-out batches its writes: {Shards} shards, up to {Entries} sockets per system call (io_uring)", EventName = "BatchedSends")]
    public static partial void BatchedSends(this ILogger logger, int shards, int entries);

    [LoggerMessage(39, LogLevel.Information, "io_uring unavailable ({Reason}): fan-out makes one send() per write", EventName = "BatchedSendsUnavailable")]
    public static partial void BatchedSendsUnavailable(this ILogger logger, string reason);

    [LoggerMessage(40, LogLevel.Information, "{Method} {Path}{Query} answered {Status} in {ElapsedMs} ms", EventName = "Request")]
    public static partial void Request(this ILogger logger, string method, string path, string query, int status, double elapsedMs);

    [LoggerMessage(50, LogLevel.Warning, "Demo publisher could not publish", EventName = "DemoFailed")]
    public static partial void DemoFailed(this ILogger logger, Exception exception);
}
