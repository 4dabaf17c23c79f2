using System.Diagnostics;
using System.Globalization;
using SignalStream.Protocol;
using SignalStream.Server.Cluster;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;
using StackExchange.Redis;

namespace SignalStream.Server.Backplane;

/// <summary>
/// Signals between nodes over one Redis pub/sub channel. A message is
/// <c>seq|min_tier|ingested_at_unix_ms|id|symbol|stored json</c>: everything a receiving node needs to
/// broadcast without asking the database. A signal published inside a trace goes as version 2,
/// <c>v2|traceparent|</c> followed by the same fields, so the receiving nodes' fan-out spans link to it; a node
/// that only knows the first form ignores it and reads the signal from history within a second (SignalFeed).
/// Messages are handed to the subscriber (the node's feed) one at a time, in arrival order; the feed restores
/// seq order and fills anything missed.
/// </summary>
public sealed class RedisBackplane(RedisConnection redis, ILogger<RedisBackplane> logger) : ISignalBackplane
{
    private const string Version2 = "v2|";

    public async ValueTask PublishAsync(StoredSignal signal, DateTimeOffset ingestedAt, ActivityContext trace = default)
    {
        // While Redis is away a publish would wait out the client's timeout (2 s) inside the serialized
        // ingest; the other nodes read the signal from history within a second anyway (SignalFeed).
        if (!redis.Multiplexer.IsConnected)
        {
            logger.PublishSkipped(signal.Seq);
            return;
        }
        try
        {
            await redis.Multiplexer.GetSubscriber().PublishAsync(RedisKeys.Signals, Format(signal, ingestedAt, trace));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.PublishFailed(signal.Seq, e);
        }
    }

    public async Task<IAsyncDisposable> SubscribeAsync(Func<StoredSignal, DateTimeOffset, ActivityContext, Task> receive)
    {
        // Fire and forget: with Redis down at start, waiting for the SUBSCRIBE would fail the node's start.
        // The subscription is kept by the multiplexer and sent whenever Redis is (again) reachable.
        var queue = await redis.Multiplexer.GetSubscriber().SubscribeAsync(RedisKeys.Signals, CommandFlags.FireAndForget);
        queue.OnMessage(async message =>
        {
            if (Parse(message.Message.ToString()) is { } parsed) await receive(parsed.Signal, parsed.IngestedAt, parsed.Trace);
        });
        return new Subscription(queue);
    }

    internal static string Format(StoredSignal signal, DateTimeOffset ingestedAt, ActivityContext trace)
    {
        var fields = string.Join('|', signal.Seq.ToString(CultureInfo.InvariantCulture), ((int)signal.MinTier).ToString(CultureInfo.InvariantCulture),
            ingestedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), signal.Id, signal.Symbol, signal.Json);
        return trace == default ? fields : $"{Version2}{Tracing.ToTraceparent(trace)}|{fields}";
    }

    internal static (StoredSignal Signal, DateTimeOffset IngestedAt, ActivityContext Trace)? Parse(string message)
    {
        var trace = default(ActivityContext);
        if (message.StartsWith(Version2, StringComparison.Ordinal))
        {
            var end = message.IndexOf('|', Version2.Length);
            if (end < 0) return null;
            ActivityContext.TryParse(message[Version2.Length..end], traceState: null, isRemote: true, out trace);
            message = message[(end + 1)..];
        }
        var parts = message.Split('|', 6);
        if (parts.Length != 6 || !long.TryParse(parts[0], CultureInfo.InvariantCulture, out var seq) || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out var tier)
            || !long.TryParse(parts[2], CultureInfo.InvariantCulture, out var ms)) return null;
        return (new StoredSignal(seq, parts[3], (Tier)tier, parts[4], parts[5]), DateTimeOffset.FromUnixTimeMilliseconds(ms), trace);
    }

    private sealed class Subscription(ChannelMessageQueue queue) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => new(queue.UnsubscribeAsync());
    }
}
