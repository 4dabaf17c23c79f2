using System.Net.Sockets;
using System.Net.WebSockets;

namespace SignalStream.Server.Transport;

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
    /// <summary>
    /// Called on the hub's sweep: pings when one is due and aborts a socket whose pong is overdue, for a socket
    /// that keeps no timer of its own (<see cref="PipeWebSocket"/>); nothing for one that does.
    /// </summary>
    void Heartbeat(TimeProvider time);
    /// <summary>Drops the connection without a close handshake.</summary>
    void Abort();
}
