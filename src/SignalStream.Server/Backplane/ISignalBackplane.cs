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
    ValueTask PublishAsync(StoredSignal signal, DateTimeOffset ingestedAt);
}

/// <summary>One node: the local feed is the whole audience.</summary>
public sealed class NoBackplane : ISignalBackplane
{
    public ValueTask PublishAsync(StoredSignal signal, DateTimeOffset ingestedAt) => ValueTask.CompletedTask;
}
