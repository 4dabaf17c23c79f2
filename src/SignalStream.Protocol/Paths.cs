namespace SignalStream.Protocol;

/// <summary>The HTTP and WebSocket paths of the contract.</summary>
public static class Paths
{
    /// <summary>Token endpoint (password or token exchange).</summary>
    public const string Token = "/api/auth/token";
    /// <summary>Single-use WebSocket ticket endpoint.</summary>
    public const string WsTicket = "/api/auth/ws-ticket";
    /// <summary>Publisher ingest endpoint.</summary>
    public const string Ingest = "/api/v1/external-signals/sync/signal";
    /// <summary>Extension: many signals in one request (a JSON array or NDJSON), one result per item.</summary>
    public const string IngestBatch = "/api/v1/external-signals/sync/signals";
    /// <summary>REST list of visible signals.</summary>
    public const string Signals = "/api/v1/signals";
    /// <summary>The signal stream.</summary>
    public const string Stream = "/ws/signals";
    /// <summary>Connection statistics.</summary>
    public const string Stats = "/ws/stats";
    /// <summary>Admin users collection.</summary>
    public const string AdminUsers = "/api/admin/users";
}
