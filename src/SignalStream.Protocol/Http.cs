namespace SignalStream.Protocol;

#pragma warning disable CS1591 // shapes are documented in docs/protocol.md
public sealed record TokenRequest(string? Username, string? Password);

public sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn, string UserId, Tier Tier);

public sealed record TicketResponse(string Ticket, int ExpiresIn);

public sealed record IngestResponse(string Id, long Seq, bool Duplicate);

public sealed record BatchIngestResponse(IReadOnlyList<BatchItemResult> Results);

/// <summary>One item of a batch: <c>Status</c> as the single endpoint would answer it (201, 200 duplicate, 400, 503).</summary>
public sealed record BatchItemResult(int Index, int Status)
{
    public string? Id { get; init; }
    public long? Seq { get; init; }
    public bool? Duplicate { get; init; }
    public string? Title { get; init; }
    public IReadOnlyDictionary<string, string[]>? Errors { get; init; }
}

public sealed record CreateUserRequest(string? Username, string? Password, string? Tier);

public sealed record UpdateUserRequest(string? Tier, string? Password, bool? Disabled);

public sealed record UserResponse(string UserId, string Username, Tier Tier, bool Disabled);

public sealed record StatsResponse(
    int TotalConnections,
    int ActiveUsers,
    IReadOnlyDictionary<string, int> UsersByTier,
    IReadOnlyDictionary<string, int>? ConnectionsByTier = null,
    long? LastSeq = null,
    IReadOnlyList<NodeStats>? Nodes = null);

public sealed record NodeStats(string NodeId, int TotalConnections, int ActiveUsers, DateTimeOffset SeenAt)
{
    public IReadOnlyDictionary<string, int>? UsersByTier { get; init; }
    public IReadOnlyDictionary<string, int>? ConnectionsByTier { get; init; }
}
#pragma warning restore CS1591
