using System.Diagnostics;
using Prometheus;
using SignalStream.Protocol;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Fanout;

/// <summary>What a connection did with an offered frame.</summary>
public enum OfferResult { Filtered, Queued, Dropped }

/// <summary>
/// The fan-out span of one signal on this node. It opens at the broadcast and closes when the last shard has
/// offered the frame to its connections, carrying what they counted: recipients per tier, queued, dropped. One span
/// per signal, none per delivery: the delivery-latency histogram points at this span with an exemplar instead.
/// Only exists while tracing is on and the signal's trace is sampled.
/// </summary>
public sealed class FanoutTrace
{
    private readonly Activity _activity;
    private readonly int[] _recipients = new int[3];
    private int _dropped;
    private int _shardsLeft;
    private int _exemplarTaken;

    private FanoutTrace(Activity activity)
    {
        _activity = activity;
        TraceIdLabel = Exemplar.Key("trace_id").WithValue(activity.TraceId.ToHexString());
        SpanIdLabel = Exemplar.Key("span_id").WithValue(activity.SpanId.ToHexString());
    }

    /// <summary>The exemplar labels pointing at this span.</summary>
    public Exemplar.LabelPair TraceIdLabel { get; }
    public Exemplar.LabelPair SpanIdLabel { get; }

    /// <summary>
    /// Opens the span: a child of the ingest's span on the node that stored the signal (<paramref name="origin"/> is
    /// then the current span), the root of a new trace linked to the origin on every other node. Null when nobody listens.
    /// </summary>
    public static FanoutTrace? Start(StoredSignal signal, ActivityContext origin, bool remote)
    {
        if (!Tracing.Source.HasListeners()) return null;
        var previous = Activity.Current;
        var activity = remote
            ? Tracing.Source.StartActivity(Tracing.Spans.Fanout, ActivityKind.Consumer, parentContext: default,
                links: origin == default ? null : [new ActivityLink(origin)])
            : Tracing.Source.StartActivity(Tracing.Spans.Fanout, ActivityKind.Internal);
        // Not current on the ingest path: the span ends on a shard's loop, not here.
        Activity.Current = previous;
        if (activity is null) return null;
        activity.TagSignal(signal.Seq, signal.Symbol, signal.MinTier);
        return new FanoutTrace(activity);
    }

    /// <summary>Told by the hub before it hands the frame to its shards: how many will report.</summary>
    public void ExpectShards(int shards) => Volatile.Write(ref _shardsLeft, shards);

    /// <summary>One exemplar per signal and node is plenty: the first delivery written takes it.</summary>
    public bool TryTakeExemplar() => Volatile.Read(ref _exemplarTaken) == 0 && Interlocked.Exchange(ref _exemplarTaken, 1) == 0;

    /// <summary>A shard has offered the frame to all its connections; the last one closes the span.</summary>
    public void ShardDone(ReadOnlySpan<int> recipients, int dropped)
    {
        for (var tier = 0; tier < _recipients.Length; tier++) Interlocked.Add(ref _recipients[tier], recipients[tier]);
        Interlocked.Add(ref _dropped, dropped);
        if (Interlocked.Decrement(ref _shardsLeft) != 0) return;
        var queued = 0;
        for (var tier = 0; tier < _recipients.Length; tier++)
        {
            queued += _recipients[tier];
            _activity.SetTag("signalstream.recipients." + ((Tier)tier).ToWire(), _recipients[tier]);
        }
        _activity.SetTag("signalstream.queued", queued).SetTag("signalstream.dropped", _dropped);
        var current = Activity.Current;
        _activity.Stop();
        Activity.Current = current;
    }
}
