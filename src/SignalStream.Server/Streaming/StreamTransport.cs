using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.WebUtilities;

namespace SignalStream.Server.Streaming;

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

/// <summary>
/// Protocol pings every <paramref name="Interval"/>; a socket whose pong is <paramref name="Timeout"/> late is aborted.
/// The client's own pings are answered up to <paramref name="ClientPingsPerSecond"/> a second, and a flood of more
/// than twice that closes the socket 4003, as for messages (<see cref="PipeWebSocket"/> only: ManagedWebSocket answers every ping).
/// </summary>
public readonly record struct KeepAlive(TimeSpan Interval, TimeSpan Timeout, int ClientPingsPerSecond = int.MaxValue);

/// <summary>How an admitted request becomes a WebSocket, and how it is cut off.</summary>
public interface IStreamTransport
{
    /// <summary>Which way the upgrade came, for the upgrade metric: <c>connection</c> or <c>http</c>.</summary>
    string Path { get; }
    /// <summary>Cancelled when the client goes away.</summary>
    CancellationToken Closed { get; }
    /// <summary>The TCP socket, where the transport exposes it.</summary>
    Socket? Socket { get; }
    /// <summary>Answers 101 and returns the server end of the WebSocket, pinging as <paramref name="keepAlive"/> says.</summary>
    Task<WebSocket> AcceptAsync(KeepAlive keepAlive);
    /// <summary>Drops the connection without a close handshake.</summary>
    void Abort();
}

/// <summary>An upgrade through ASP.NET Core's HTTP pipeline and WebSocket middleware.</summary>
public sealed class HttpStreamTransport(HttpContext context) : IStreamTransport
{
    public string Path => "http";
    public CancellationToken Closed => context.RequestAborted;
    public Socket? Socket => context.Features.Get<IConnectionSocketFeature>()?.Socket;

    public Task<WebSocket> AcceptAsync(KeepAlive keepAlive) => context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
    {
        DangerousEnableCompression = false, // permessage-deflate: never negotiated
        KeepAliveInterval = keepAlive.Interval,
        KeepAliveTimeout = keepAlive.Timeout,
    });

    public void Abort() => context.Abort();
}
