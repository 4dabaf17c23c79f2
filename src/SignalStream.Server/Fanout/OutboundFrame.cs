using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using SignalStream.Protocol;
using SignalStream.Server.Storage;
using SignalStream.Server.Transport;

namespace SignalStream.Server.Fanout;

/// <summary>
/// One serialized message, framed once: a broadcast signal becomes one of these, and the same
/// instance sits in every recipient's queue, its WebSocket frame built once for all of them
/// (server frames are unmasked, so every recipient gets the same bytes). <see cref="Seq"/> is 0
/// for control frames.
/// </summary>
public sealed class OutboundFrame
{
    private readonly byte[] _frame;
    private readonly int _payloadAt;

    /// <summary>A message, framed here (a copy).</summary>
    public OutboundFrame(ReadOnlySpan<byte> utf8, long seq = 0, Tier minTier = Tier.Starter, string? symbol = null)
        : this(PipeWebSocket.NewTextFrame(utf8.Length, out var payloadAt), payloadAt, seq, minTier, symbol) => utf8.CopyTo(_frame.AsSpan(_payloadAt));

    /// <param name="frame">A final text frame, its header and then its payload from <paramref name="payloadAt"/> (<see cref="PipeWebSocket.NewTextFrame"/>).</param>
    private OutboundFrame(byte[] frame, int payloadAt, long seq = 0, Tier minTier = Tier.Starter, string? symbol = null, long ingestTimestamp = 0, FanoutTrace? trace = null)
    {
        (_frame, _payloadAt) = (frame, payloadAt);
        (Seq, MinTier, Symbol, IngestTimestamp, Trace) = (seq, minTier, symbol, ingestTimestamp, trace);
    }

    /// <summary>The message (JSON, UTF-8).</summary>
    public ReadOnlyMemory<byte> Utf8 => _frame.AsMemory(_payloadAt);
    /// <summary>The message as one final, unmasked WebSocket text frame: header and payload, ready for the wire.</summary>
    public ReadOnlyMemory<byte> WebSocketFrame => _frame;
    /// <inheritdoc cref="WebSocketFrame"/>
    public ArraySegment<byte> WebSocketFrameSegment => _frame;
    public long Seq { get; }
    public Tier MinTier { get; }
    public string? Symbol { get; }
    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp of the start of ingest; 0 for replayed and control frames.</summary>
    public long IngestTimestamp { get; }
    /// <summary>This signal's fan-out span on this node, while tracing; null otherwise.</summary>
    public FanoutTrace? Trace { get; }
    public bool IsSignal => Seq > 0;

    private static readonly byte[] SignalPrefix = "{\"type\":\"signal\",\"seq\":"u8.ToArray();
    private static readonly byte[] SignalMiddle = ",\"signal\":"u8.ToArray();

    /// <summary>A <c>signal</c> frame around the stored JSON, without parsing or re-serializing it.</summary>
    public static OutboundFrame ForSignal(StoredSignal signal, long ingestTimestamp = 0, FanoutTrace? trace = null)
    {
        Span<byte> digits = stackalloc byte[20];
        signal.Seq.TryFormat(digits, out var digitCount);
        var jsonLength = Encoding.UTF8.GetByteCount(signal.Json);
        var bytes = PipeWebSocket.NewTextFrame(SignalPrefix.Length + digitCount + SignalMiddle.Length + jsonLength + 1, out var payloadAt);
        var span = bytes.AsSpan(payloadAt);
        SignalPrefix.CopyTo(span);
        var at = SignalPrefix.Length;
        digits[..digitCount].CopyTo(span[at..]);
        at += digitCount;
        SignalMiddle.CopyTo(span[at..]);
        at += SignalMiddle.Length;
        at += Encoding.UTF8.GetBytes(signal.Json, span[at..]);
        span[at] = (byte)'}';
        return new OutboundFrame(bytes, payloadAt, signal.Seq, signal.MinTier, signal.Symbol, ingestTimestamp, trace);
    }

    public static OutboundFrame Control<T>(T message, JsonTypeInfo<T> type) => new(JsonSerializer.SerializeToUtf8Bytes(message, type));
}
