using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections.Features;

namespace SignalStream.Server.Transport;

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

    public void Heartbeat(TimeProvider time) { } // ManagedWebSocket pings on its own timer

    public void Abort() => context.Abort();
}
