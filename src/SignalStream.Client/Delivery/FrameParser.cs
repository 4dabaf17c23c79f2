using System.Text.Json;
using SignalStream.Protocol;

namespace SignalStream.Client.Delivery;

/// <summary>Reads server frames and writes client frames with the protocol's source-generated serializers.</summary>
internal static class FrameParser
{
    /// <summary>
    /// Parses one server frame. False, with a short reason fit for a log, when the frame is not a JSON
    /// object with a string <c>type</c>, or when a message it claims to be lacks its required fields.
    /// Unknown types parse successfully (newer servers may send them; they are skipped).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out ServerMessage message, out string? error)
    {
        message = null!;
        ServerMessage? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize(utf8, ProtocolJson.Default.ServerMessage);
        }
        catch (JsonException ex)
        {
            error = "invalid JSON: " + ex.Message;
            return false;
        }
        if (parsed is null)
        {
            error = "not a JSON object";
            return false;
        }
        if (string.IsNullOrEmpty(parsed.Type))
        {
            error = "no type";
            return false;
        }
        error = parsed.Type switch
        {
            MessageTypes.Signal when parsed.Signal is null => "signal frame without signal",
            MessageTypes.Signal when (parsed.Seq ?? parsed.Signal!.Seq) <= 0 => "signal frame without seq",
            MessageTypes.Welcome when parsed.LastSeq is null => "welcome without last_seq",
            MessageTypes.TierChanged when parsed.Tier is null => "tier_changed without tier",
            _ => null,
        };
        if (error is not null)
            return false;
        message = parsed;
        return true;
    }

    /// <summary>The seq of a signal frame: the frame's own field, else the stored signal's.</summary>
    public static long SeqOf(ServerMessage message) => message.Seq ?? message.Signal?.Seq ?? 0;

    /// <summary>The signal of a signal frame, with its <c>seq</c> filled in from the frame when the stored form lacks it.</summary>
    public static Signal SignalOf(ServerMessage message)
    {
        var signal = message.Signal!;
        var seq = SeqOf(message);
        return signal.Seq == seq ? signal : signal with { Seq = seq };
    }

    public static byte[] Serialize(ClientMessage message) =>
        JsonSerializer.SerializeToUtf8Bytes(message, ProtocolJson.Default.ClientMessage);
}
