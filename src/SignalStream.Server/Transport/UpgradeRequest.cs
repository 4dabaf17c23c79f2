using Microsoft.AspNetCore.WebUtilities;

namespace SignalStream.Server.Transport;

/// <summary>What admission reads from an upgrade request, whichever way it arrived.</summary>
/// <param name="Origin">The Origin header; null when there is none.</param>
/// <param name="OwnOrigin">This server's origin as the request addressed it.</param>
/// <param name="Authorization">The Authorization header.</param>
public sealed record UpgradeRequest(bool IsWebSocket, string? Origin, string OwnOrigin, string? Authorization, IQueryCollection Query)
{
    public static UpgradeRequest From(HttpContext context)
    {
        var headers = context.Request.Headers;
        return new(context.WebSockets.IsWebSocketRequest,
            headers.TryGetValue("Origin", out var origin) ? origin.ToString() : null,
            $"{context.Request.Scheme}://{context.Request.Host.Value}",
            headers.TryGetValue("Authorization", out var authorization) ? authorization.ToString() : null,
            context.Request.Query);
    }

    /// <summary>Cleartext only: <see cref="ConnectionUpgrade"/> never sees a TLS connection's requests.</summary>
    public static UpgradeRequest From(UpgradeHead head) =>
        new(IsWebSocket: true, head.Origin, $"http://{head.Host}", head.Authorization, new QueryCollection(QueryHelpers.ParseQuery(head.Query)));
}
