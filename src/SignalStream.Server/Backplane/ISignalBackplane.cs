using SignalStream.Server.Fanout;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Backplane;

/// <summary>
/// Carries stored signals from the node that ingested them to every node's <see cref="SignalFeed"/>.
/// Every implementation keeps these, and only these (tests/…/Backplane/BackplaneSpec):
/// <list type="number">
/// <item><see cref="PublishAsync"/> never throws and returns even while the medium is away.</item>
/// <item>A subscriber is handed only signals that were published, each intact: seq, id, tier, symbol
/// and stored JSON as published, the ingest time to the millisecond.</item>
/// <item>A subscriber's callback never runs concurrently with itself.</item>
/// <item>Once its subscription is disposed, a subscriber is handed nothing more.</item>
/// </list>
/// Nothing else: a signal may arrive late, out of order, twice or never (<see cref="NoBackplane"/>
/// carries nothing at all). The feed restores order and fills what was lost from history, which,
/// not the backplane, is the record (tests/…/Fanout/SignalFeedSpecTests).
/// </summary>
public interface ISignalBackplane
{
    /// <summary>Best effort: failures are logged, never thrown, since the signal is already stored and delivered locally.</summary>
    ValueTask PublishAsync(StoredSignal signal, DateTimeOffset ingestedAt);

    /// <summary>
    /// Hands signals published on any node (this one included) to <paramref name="receive"/>, one at a time, as they
    /// arrive. Returns once the subscription is asked for (it may be established later, when the backplane is reachable);
    /// disposing the result ends it.
    /// </summary>
    Task<IAsyncDisposable> SubscribeAsync(Func<StoredSignal, DateTimeOffset, Task> receive);
}
