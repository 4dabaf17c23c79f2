using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace SignalStream.Server.Transport;

/// <summary>Which WebSocket handshake a request makes, as RFC 6455 4.2 and RFC 9110 7.8 read it.</summary>
public enum Handshake
{
    /// <summary>None that may be upgraded (another method, HTTP/1.0, a missing or bad header): 400.</summary>
    None,
    /// <summary>A WebSocket upgrade in another Sec-WebSocket-Version (or none): 426, naming version 13.</summary>
    OtherVersion,
    /// <summary>A WebSocket handshake in version 13.</summary>
    WebSocket,
}

/// <summary>What admission reads from an upgrade request, whichever way it arrived.</summary>
/// <param name="Origin">The Origin header; null when there is none.</param>
/// <param name="OwnOrigin">This server's origin as the request addressed it.</param>
/// <param name="Authorization">The Authorization header.</param>
public sealed record UpgradeRequest(Handshake Handshake, string? Origin, string OwnOrigin, string? Authorization, IQueryCollection Query)
{
    public static UpgradeRequest From(HttpContext context)
    {
        var headers = context.Request.Headers;
        return new(HandshakeOf(context),
            headers.TryGetValue("Origin", out var origin) ? origin.ToString() : null,
            $"{context.Request.Scheme}://{context.Request.Host.Value}",
            headers.TryGetValue("Authorization", out var authorization) ? authorization.ToString() : null,
            context.Request.Query);
    }

    /// <summary>Cleartext only: <see cref="ConnectionUpgrade"/> never sees a TLS connection's requests.</summary>
    public static UpgradeRequest From(UpgradeHead head) =>
        new(Handshake.WebSocket, head.Origin, $"http://{head.Host}", head.Authorization, new QueryCollection(QueryHelpers.ParseQuery(head.Query)));

    /// <summary>
    /// ASP.NET Core's check, held to the standards where it is lenient on HTTP/1: the method is <c>GET</c> exactly
    /// (methods are case-sensitive, RFC 9110 9.1), and an HTTP/1.0 request's Upgrade is ignored (RFC 9110 7.8).
    /// A WebSocket upgrade in another version is told which one this server speaks (RFC 6455 4.2.2).
    /// </summary>
    private static Handshake HandshakeOf(HttpContext context)
    {
        var request = context.Request;
        if (HttpProtocol.IsHttp10(request.Protocol)) return Handshake.None;
        var http11 = HttpProtocol.IsHttp11(request.Protocol);
        if (http11 && !string.Equals(request.Method, HttpMethods.Get, StringComparison.Ordinal)) return Handshake.None;
        if (context.WebSockets.IsWebSocketRequest) return Handshake.WebSocket;
        var headers = request.Headers;
        return http11 && HasToken(headers.Upgrade, "websocket") && HasToken(headers.Connection, "upgrade") && headers.SecWebSocketVersion != "13"
            ? Handshake.OtherVersion
            : Handshake.None;
    }

    private static bool HasToken(StringValues values, string token) =>
        values.Any(v => v!.Split(',').Any(t => t.Trim().Equals(token, StringComparison.OrdinalIgnoreCase)));
}
