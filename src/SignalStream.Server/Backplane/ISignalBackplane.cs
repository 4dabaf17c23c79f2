using System.Diagnostics;
using SignalStream.Server.Fanout;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Backplane;

/// <summary>
/// Carries stored signals from the node that ingested them to every other node's
/// <see cref="SignalFeed"/>. Guarantees are deliberately weak (at most once, any order): the feed
/// restores order and fills what was lost from history, which, not the backplane, is the record.
/// </summary>
public interface ISignalBackplane
{
    /// <summary>Best effort: failures are logged, never thrown, since the signal is already stored and delivered locally.</summary>
    /// <param name="trace">The publishing span, for the receiving nodes' fan-out spans to link to (default: none).</param>
    ValueTask PublishAsync(StoredSignal signal, DateTimeOffset ingestedAt, ActivityContext trace);

    /// <summary>
    /// Hands signals published on any node to <paramref name="receive"/>, one at a time, as they arrive: possibly out of
    /// order, twice, or not at all. Returns once the subscription is asked for (it may be established later, when the
    /// backplane is reachable); disposing the result ends it.
    /// </summary>
    Task<IAsyncDisposable> SubscribeAsync(Func<StoredSignal, DateTimeOffset, ActivityContext, Task> receive);
}
