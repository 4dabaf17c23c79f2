namespace SignalStream.Protocol;

/// <summary>
/// WebSocket close codes of the protocol. 4000-4499: reconnect after backoff;
/// 4500-4999: do not reconnect with the same credentials.
/// </summary>
public static class CloseCodes
{
    /// <summary>Normal close.</summary>
    public const int Normal = 1000;
    /// <summary>Server shutting down: reconnect with after_seq, ideally to another node.</summary>
    public const int GoingAway = 1001;
    /// <summary>A binary frame was received; the protocol is text only.</summary>
    public const int BinaryNotSupported = 1003;
    /// <summary>A text frame that is not valid UTF-8.</summary>
    public const int InvalidUtf8 = 1007;
    /// <summary>Generic policy violation.</summary>
    public const int PolicyViolation = 1008;
    /// <summary>A client frame over the size limit.</summary>
    public const int MessageTooBig = 1009;
    /// <summary>Unexpected server error.</summary>
    public const int InternalError = 1011;
    /// <summary>Server overloaded.</summary>
    public const int TryAgainLater = 1013;
    /// <summary>Token expired and was not refreshed in time.</summary>
    public const int TokenExpired = 4001;
    /// <summary>Rate limited: a flood of client frames.</summary>
    public const int RateLimited = 4003;
    /// <summary>Slow consumer: the outbound buffer overflowed.</summary>
    public const int SlowConsumer = 4004;
    /// <summary>Token invalid or revoked.</summary>
    public const int TokenInvalid = 4500;
    /// <summary>Too many bad frames.</summary>
    public const int TooManyBadFrames = 4501;
    /// <summary>User disabled or access revoked.</summary>
    public const int UserDisabled = 4503;
    /// <summary>Per-user connection limit reached.</summary>
    public const int ConnectionLimit = 4504;

    /// <summary>Whether a client may reconnect (after backoff) after this close code.</summary>
    public static bool ShouldReconnect(int code) => code is not (Normal or (>= 4500 and <= 4999) or BinaryNotSupported or InvalidUtf8 or MessageTooBig);
}
