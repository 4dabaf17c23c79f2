using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using SignalStream.Protocol;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Fanout;

/// <summary>
/// One serialized frame. A broadcast signal becomes one of these, once, and the same instance
/// sits in every recipient's queue. <see cref="Seq"/> is 0 for control frames.
/// </summary>
public sealed class OutboundFrame(byte[] utf8, long seq = 0, Tier minTier = Tier.Starter, string? symbol = null, long ingestTimestamp = 0, FanoutTrace? trace = null)
{
    public ReadOnlyMemory<byte> Utf8 { get; } = utf8;
    public long Seq { get; } = seq;
    public Tier MinTier { get; } = minTier;
    public string? Symbol { get; } = symbol;
    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp of the start of ingest; 0 for replayed and control frames.</summary>
    public long IngestTimestamp { get; } = ingestTimestamp;
    /// <summary>This signal's fan-out span on this node, while tracing; null otherwise.</summary>
    public FanoutTrace? Trace { get; } = trace;
    public bool IsSignal => Seq > 0;

    private static readonly byte[] SignalPrefix = "{\"type\":\"signal\",\"seq\":"u8.ToArray();
    private static readonly byte[] SignalMiddle = ",\"signal\":"u8.ToArray();

    /// <summary>A <c>signal</c> frame around the stored JSON, without parsing or re-serializing it.</summary>
    public static OutboundFrame ForSignal(StoredSignal signal, long ingestTimestamp = 0, FanoutTrace? trace = null)
    {
        Span<byte> digits = stackalloc byte[20];
        signal.Seq.TryFormat(digits, out var digitCount);
        var jsonLength = Encoding.UTF8.GetByteCount(signal.Json);
        var bytes = new byte[SignalPrefix.Length + digitCount + SignalMiddle.Length + jsonLength + 1];
        var span = bytes.AsSpan();
        SignalPrefix.CopyTo(span);
        var at = SignalPrefix.Length;
        digits[..digitCount].CopyTo(span[at..]);
        at += digitCount;
        SignalMiddle.CopyTo(span[at..]);
        at += SignalMiddle.Length;
        at += Encoding.UTF8.GetBytes(signal.Json, span[at..]);
        span[at] = (byte)'}';
        return new OutboundFrame(bytes, signal.Seq, signal.MinTier, signal.Symbol, ingestTimestamp, trace);
    }

    public static OutboundFrame Control<T>(T message, JsonTypeInfo<T> type) => new(JsonSerializer.SerializeToUtf8Bytes(message, type));
}
