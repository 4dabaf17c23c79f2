using SignalStream.Protocol;

namespace SignalStream.Client.Rest;

/// <summary>The REST signal list (<c>GET /api/v1/signals</c>), which catch-up and polling read.</summary>
internal interface ISignalList
{
    /// <summary>
    /// One page: with <paramref name="afterSeq"/>, the oldest visible signals after it; without, the newest.
    /// Throws <see cref="UnauthorizedException"/> when the credentials are refused.
    /// </summary>
    Task<SignalPage> GetSignalsAsync(long? afterSeq, int limit, CancellationToken ct);
}
