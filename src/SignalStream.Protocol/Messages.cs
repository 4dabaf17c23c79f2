using System.Text.Json.Serialization;

namespace SignalStream.Protocol;

/// <summary>Message type names used in the <c>type</c> field.</summary>
public static class MessageTypes
{
#pragma warning disable CS1591 // the names are the documentation
    public const string Welcome = "welcome";
    public const string Signal = "signal";
    public const string ReplayComplete = "replay_complete";
    public const string ResyncRequired = "resync_required";
    public const string TierChanged = "tier_changed";
    public const string Pong = "pong";
    public const string TokenExpiring = "token_expiring";
    public const string Error = "error";
    public const string Ping = "ping";
    public const string Resume = "resume";
    public const string Subscribe = "subscribe";
    public const string Refresh = "refresh";
#pragma warning restore CS1591
}

/// <summary>Codes carried by <c>error</c> frames.</summary>
public static class ErrorCodes
{
#pragma warning disable CS1591
    public const string InvalidJson = "invalid_json";
    public const string UnknownType = "unknown_type";
    public const string InvalidField = "invalid_field";
    public const string RateLimited = "rate_limited";
    public const string InvalidToken = "invalid_token";
    public const string ResumeUnavailable = "resume_unavailable";
#pragma warning restore CS1591
}

/// <summary>Why a <c>resync_required</c> was sent.</summary>
public static class ResyncReasons
{
    /// <summary>Part of the gap was trimmed from history; what history still holds follows.</summary>
    public const string HistoryTruncated = "history_truncated";
    /// <summary>The resume point was counted in another history (another <c>epoch</c>).</summary>
    public const string EpochChanged = "epoch_changed";
    /// <summary>The resume point is beyond the history's last seq: the history went back (a reset or a restore).</summary>
    public const string AheadOfHistory = "ahead_of_history";
}

/// <summary>First frame of every connection.</summary>
public sealed record WelcomeMessage(string ConnectionId, string UserId, Tier Tier, long LastSeq, int HeartbeatMs, DateTimeOffset ServerTime)
{
    /// <summary>Always <c>welcome</c>.</summary>
    [JsonPropertyOrder(-1)]
    public string Type => MessageTypes.Welcome;

    /// <summary>The identity of the signal history that <see cref="LastSeq"/> counts in.</summary>
    public string? Epoch { get; init; }
}

/// <summary>A visible signal, live or replayed.</summary>
public sealed record SignalMessage(long Seq, Signal Signal)
{
    /// <summary>Always <c>signal</c>.</summary>
    [JsonPropertyOrder(-1)]
    public string Type => MessageTypes.Signal;
}

/// <summary>End of a replay asked for with <c>after_seq</c> or <c>resume</c>.</summary>
public sealed record ReplayCompleteMessage(long FromSeq, long ToSeq, int Count)
{
    /// <summary>Always <c>replay_complete</c>.</summary>
    [JsonPropertyOrder(-1)]
    public string Type => MessageTypes.ReplayComplete;

    /// <summary>The history the replayed seqs count in.</summary>
    public string? Epoch { get; init; }
}

/// <summary>
/// History cannot fill the requested gap (<see cref="ResyncReasons"/>): the client drops its seq and
/// de-duplication state when the <see cref="Epoch"/> is not its own or its seq is beyond <see cref="LastSeq"/>,
/// and fetches from the REST list.
/// </summary>
public sealed record ResyncRequiredMessage(string Reason, long OldestSeq)
{
    /// <summary>Always <c>resync_required</c>.</summary>
    [JsonPropertyOrder(-1)]
    public string Type => MessageTypes.ResyncRequired;

    /// <summary>The identity of the history the server holds.</summary>
    public string? Epoch { get; init; }

    /// <summary>The newest seq in that history.</summary>
    public long LastSeq { get; init; }
}

/// <summary>The user's tier changed; the stream follows it from now on.</summary>
public sealed record TierChangedMessage(Tier Tier)
{
    /// <summary>Always <c>tier_changed</c>.</summary>
    [JsonPropertyOrder(-1)]
    public string Type => MessageTypes.TierChanged;
}

/// <summary>Answer to <c>ping</c>.</summary>
public sealed record PongMessage(double? Ts)
{
    /// <summary>Always <c>pong</c>.</summary>
    [JsonPropertyOrder(-1)]
    public string Type => MessageTypes.Pong;
}

/// <summary>The connection's token expires soon; answer with <c>refresh</c>.</summary>
public sealed record TokenExpiringMessage(DateTimeOffset ExpiresAt)
{
    /// <summary>Always <c>token_expiring</c>.</summary>
    [JsonPropertyOrder(-1)]
    public string Type => MessageTypes.TokenExpiring;
}

/// <summary>A client frame was refused.</summary>
public sealed record ErrorMessage(string Code, string Message)
{
    /// <summary>Always <c>error</c>.</summary>
    [JsonPropertyOrder(-1)]
    public string Type => MessageTypes.Error;
}

/// <summary>
/// Any server frame, for clients that read frames before knowing their type: every field of every
/// server message, all optional. The <see cref="Type"/> says which ones are set.
/// </summary>
public sealed record ServerMessage
{
#pragma warning disable CS1591 // the fields are documented on the typed messages
    public string? Type { get; init; }
    public string? ConnectionId { get; init; }
    public string? UserId { get; init; }
    public Tier? Tier { get; init; }
    public string? Epoch { get; init; }
    public long? LastSeq { get; init; }
    public int? HeartbeatMs { get; init; }
    public DateTimeOffset? ServerTime { get; init; }
    public long? Seq { get; init; }
    public Signal? Signal { get; init; }
    public long? FromSeq { get; init; }
    public long? ToSeq { get; init; }
    public int? Count { get; init; }
    public string? Reason { get; init; }
    public long? OldestSeq { get; init; }
    public double? Ts { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public string? Code { get; init; }
    public string? Message { get; init; }
#pragma warning restore CS1591
}

/// <summary>Any client frame: <c>ping</c>, <c>resume</c>, <c>subscribe</c> or <c>refresh</c>.</summary>
public sealed record ClientMessage
{
    /// <summary>The message type.</summary>
    public string? Type { get; init; }
    /// <summary><c>ping</c>: any number, echoed in <c>pong</c>.</summary>
    public double? Ts { get; init; }
    /// <summary><c>resume</c>: replay after this seq.</summary>
    public long? AfterSeq { get; init; }
    /// <summary><c>resume</c>: the history <see cref="AfterSeq"/> was counted in (optional).</summary>
    public string? Epoch { get; init; }
    /// <summary><c>subscribe</c>: the symbol filter; empty means all.</summary>
    public string[]? Symbols { get; init; }
    /// <summary><c>refresh</c>: a new access token for the same user.</summary>
    public string? Token { get; init; }
}
