using System.Buffers;
using System.Text;

namespace SignalStream.Server.Transport;

public enum HeadVerdict
{
    /// <summary>So far a prefix of a stream upgrade: read more.</summary>
    NeedMore,
    /// <summary>Anything else: the HTTP pipeline answers it.</summary>
    NotOurs,
    /// <summary>A complete, clean WebSocket upgrade request for <c>/ws/signals</c>.</summary>
    Upgrade,
}

/// <summary>
/// Recognises the one request <see cref="ConnectionUpgrade"/> serves: a complete, strictly formed
/// HTTP/1.1 WebSocket upgrade of <c>/ws/signals</c>. Strict on purpose: whatever it is unsure of
/// (an odd path or Host, obsolete line folding, a body, duplicate headers, another WebSocket version, a head
/// over 8 KB) is not ours, and Kestrel's parser and the HTTP endpoint answer it, as the standards require
/// (UpgradeDifferentialTests holds the two to the same verdict).
/// </summary>
public sealed class UpgradeHead
{
    public const int MaxBytes = 8 * 1024;
    private const int MaxHeaders = 64;
    private static ReadOnlySpan<byte> Prefix => "GET /ws/signals"u8;
    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    private UpgradeHead(string query, string host, string key, string? origin, string? authorization)
    {
        Query = query;
        Host = host;
        Key = key;
        Origin = origin;
        Authorization = authorization;
    }

    /// <summary>The raw query string, with its <c>?</c> (or empty).</summary>
    public string Query { get; }
    public string Host { get; }
    public string Key { get; }
    public string? Origin { get; }
    public string? Authorization { get; }

    /// <param name="length">With <see cref="HeadVerdict.Upgrade"/>: bytes up to and including the blank line.</param>
    public static HeadVerdict TryParse(ReadOnlySequence<byte> buffer, out UpgradeHead? head, out long length)
    {
        head = null;
        length = 0;
        Span<byte> start = stackalloc byte[Prefix.Length + 1];
        var known = (int)Math.Min(buffer.Length, start.Length);
        buffer.Slice(0, known).CopyTo(start);
        if (!Prefix.StartsWith(start[..Math.Min(known, Prefix.Length)])) return HeadVerdict.NotOurs;
        if (known > Prefix.Length && start[Prefix.Length] is not (byte)' ' and not (byte)'?') return HeadVerdict.NotOurs;

        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> headBytes, HeadEnd))
        {
            if (buffer.Length > MaxBytes) return HeadVerdict.NotOurs;
            Span<byte> soFar = stackalloc byte[(int)buffer.Length];
            buffer.CopyTo(soFar);
            // A head with bare line breaks never ends in CRLF CRLF: Kestrel answers it, at once.
            return HasBareLineBreak(soFar) ? HeadVerdict.NotOurs : HeadVerdict.NeedMore;
        }
        length = reader.Consumed;
        if (length > MaxBytes) return HeadVerdict.NotOurs;
        head = Parse(headBytes);
        return head is null ? HeadVerdict.NotOurs : HeadVerdict.Upgrade;
    }

    private static UpgradeHead? Parse(ReadOnlySequence<byte> bytes)
    {
        Span<byte> ascii = stackalloc byte[(int)bytes.Length];
        bytes.CopyTo(ascii);
        if (HasBareLineBreak(ascii)) return null;
        foreach (var b in ascii)
            if (b is > 0x7E || (b < 0x20 && b is not (byte)'\r' and not (byte)'\n' and not (byte)'\t')) return null;
        var lines = Encoding.ASCII.GetString(ascii).Split("\r\n");

        // The request line: GET /ws/signals[?query] HTTP/1.1 (the prefix is checked already).
        var parts = lines[0].Split(' ');
        if (parts is not [_, var target, "HTTP/1.1"] || target.Any(c => c <= ' ')) return null;
        var queryAt = target.IndexOf('?', StringComparison.Ordinal);
        if ((queryAt < 0 ? target : target[..queryAt]) != "/ws/signals") return null;

        if (lines.Length - 1 > MaxHeaders) return null;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.AsSpan(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !line.AsSpan(0, colon).ContainsOnlyTokenChars()) return null; // also obsolete folding
            if (!headers.TryAdd(line[..colon], line[(colon + 1)..].Trim(' ', '\t'))) return null;
        }

        // What ASP.NET Core's IsWebSocketRequest checks, plus a Host and no body.
        if (!headers.TryGetValue("Host", out var host) || !IsPlainHost(host)) return null;
        if (headers.ContainsKey("Content-Length") || headers.ContainsKey("Transfer-Encoding")) return null;
        if (!string.Equals(headers.GetValueOrDefault("Upgrade"), "websocket", StringComparison.OrdinalIgnoreCase)) return null;
        if (!(headers.GetValueOrDefault("Connection") ?? "").Split(',').Any(t => t.Trim().Equals("Upgrade", StringComparison.OrdinalIgnoreCase))) return null;
        if (headers.GetValueOrDefault("Sec-WebSocket-Version") != "13") return null;
        if (headers.GetValueOrDefault("Sec-WebSocket-Key") is not { } key || !IsValidKey(key)) return null;

        return new UpgradeHead(queryAt < 0 ? "" : target[queryAt..], host, key,
            headers.GetValueOrDefault("Origin"), headers.GetValueOrDefault("Authorization"));
    }

    /// <summary>A CR not followed by LF, or an LF not preceded by CR (a CR at the very end may still get its LF).</summary>
    private static bool HasBareLineBreak(ReadOnlySpan<byte> bytes)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == '\n' && (i == 0 || bytes[i - 1] != '\r')) return true;
            if (bytes[i] == '\r' && i + 1 < bytes.Length && bytes[i + 1] != '\n') return true;
        }
        return false;
    }

    /// <summary>
    /// A Host every HTTP/1.1 server takes: a name or address of unreserved characters, or an IPv6 literal,
    /// with an optional port (RFC 9112 3.2, RFC 3986 3.2.2); within what Kestrel accepts, which answers
    /// the rest (400 where it is invalid; an empty Host, which Kestrel allows, goes there too).
    /// </summary>
    private static bool IsPlainHost(string host)
    {
        var portAt = host.StartsWith('[') ? host.IndexOf(']', StringComparison.Ordinal) + 1 : host.IndexOf(':', StringComparison.Ordinal);
        if (portAt <= 0) portAt = host.Length;
        var (name, port) = (host[..portAt], host[portAt..]);
        if (port.Length > 0 && (port.Length < 2 || port[0] != ':' || !port[1..].All(char.IsAsciiDigit))) return false;
        return name.StartsWith('[')
            ? name.Length >= 5 && name[^1] == ']' && name[1..^1].All(c => char.IsAsciiHexDigit(c) || c is ':' or '.') // Kestrel: [::1] at least
            : name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~');
    }

    /// <summary>RFC 6455: the key is 16 random bytes in base64.</summary>
    private static bool IsValidKey(string key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return Convert.TryFromBase64String(key, decoded, out var written) && written == 16;
    }
}

internal static class HttpTokens
{
    /// <summary>RFC 9110 token characters: a header name.</summary>
    public static bool ContainsOnlyTokenChars(this ReadOnlySpan<char> name)
    {
        foreach (var c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c))) return false;
        return true;
    }
}
