using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SignalStream.Server.Observability;
using SignalStream.Server.Streaming;

namespace SignalStream.Server.Transport;

/// <summary>
/// Serves <c>/ws/signals</c> upgrades on the connection itself, in front of Kestrel's HTTP/1.1
/// layer. Through the HTTP pipeline an upgraded socket keeps the HTTP connection, its request and
/// response headers (the token among them), pipes, middleware and async state alive for its whole
/// life: most of the 16 KB an idle connection cost. Served here it keeps the transport, the
/// WebSocket and the stream's own objects (docs/design.md, "Memory per connection").
/// <para>
/// It looks at the first request of each cleartext connection without consuming it. Only a
/// complete, clean upgrade of <c>/ws/signals</c> (<see cref="UpgradeHead"/>) is served here;
/// everything else goes on to the HTTP pipeline untouched. A request admission refuses goes on too,
/// with the refusal handed over (<see cref="HandedOverRefusal"/>), and <see cref="StreamEndpoint.HandleAsync"/> writes it: one place
/// answers every refusal, with the same status, headers, problem body and request log.
/// </para>
/// </summary>
/// <param name="requestLog">The request log's own category, so one setting turns every request line on or off.</param>
/// <param name="limits">Kestrel's: how long a new connection may stay silent, and how long a begun head may take.</param>
public sealed class ConnectionUpgrade(ConnectionDelegate next, StreamEndpoint endpoint, KestrelServerLimits limits, ILogger<RequestLogging> requestLog)
{
    public async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        if (await ReadHeadAsync(connection) is not var (buffer, head, headLength, spent)) return;
        var unread = buffer.Start;
        if (head is null)
        {
            input.AdvanceTo(unread); // Kestrel parses the same bytes
            if (spent is { } elapsed) HeadBudget.Arm(connection, limits.RequestHeadersTimeout - elapsed); // not a fresh budget
            await next(connection);
            return;
        }

        // The head stays unread until admission decides: a refusal goes on to the pipeline as it came.
        // Nothing of the head outlives admission (the token is in it): only its redacted query, for the log.
        var started = Stopwatch.GetTimestamp();
        var loggedQuery = requestLog.IsEnabled(LogLevel.Information) ? RequestLogging.Redact(head.Query) : null;
        var transport = new ConnectionTransport(connection, head.Key, buffer.GetPosition(headLength));
        var admission = await endpoint.AdmitAsync(UpgradeRequest.From(head), transport);
        if (admission.Refusal is { } refusal)
        {
            HandedOverRefusal.Attach(connection.Features, refusal);
            input.AdvanceTo(unread);
            await next(connection);
            return;
        }
        if (loggedQuery is not null)
            requestLog.Request("GET", Protocol.Paths.Stream, loggedQuery, StatusCodes.Status101SwitchingProtocols, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        await endpoint.RunAsync(admission.Admitted!.Value, transport);
    }

    /// <summary>
    /// Reads until the first request's head is complete or is clearly not a stream upgrade, consuming
    /// nothing. The head is null when the request is not ours; the whole is null when the client gave
    /// up or took longer than Kestrel would allow: its keep-alive timeout for the first byte (a
    /// browser's preconnected socket), then its request-headers timeout for the rest of the head.
    /// Spent is the time since the first byte when the head took more than one read (null when its
    /// first bytes decided, and Kestrel's own count starts as good as together with ours).
    /// </summary>
    private async Task<(ReadOnlySequence<byte> Buffer, UpgradeHead? Head, long HeadLength, TimeSpan? Spent)?> ReadHeadAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        deadline.CancelAfter(limits.KeepAliveTimeout);
        var begun = false;
        var begunAt = 0L;
        var waitedForMore = false;
        while (true)
        {
            ReadResult read;
            try { read = await input.ReadAsync(deadline.Token); }
            catch (OperationCanceledException)
            {
                connection.Abort();
                return null;
            }
            if (!begun && !read.Buffer.IsEmpty)
            {
                begun = true;
                begunAt = Stopwatch.GetTimestamp();
                deadline.CancelAfter(limits.RequestHeadersTimeout);
            }
            var verdict = UpgradeHead.TryParse(read.Buffer, out var head, out var headLength);
            if (verdict != HeadVerdict.NeedMore || read.IsCompleted)
                return (read.Buffer, head, headLength, waitedForMore ? Stopwatch.GetElapsedTime(begunAt) : null);
            waitedForMore = begun;
            input.AdvanceTo(read.Buffer.Start, read.Buffer.End); // nothing consumed: wait for more
        }
    }

    private sealed class ConnectionTransport(ConnectionContext connection, string key, SequencePosition headEnd) : IStreamTransport
    {
        private string? _key = key;
        private SequencePosition _headEnd = headEnd;
        private PipeWebSocket? _socket;

        public string Path => "connection";
        public CancellationToken Closed => connection.ConnectionClosed;
        public Socket? Socket => connection.Features.Get<IConnectionSocketFeature>()?.Socket;

        public async Task<WebSocket> AcceptAsync(KeepAlive keepAlive)
        {
            connection.Transport.Input.AdvanceTo(_headEnd);
            var key = _key!;
            (_key, _headEnd) = (null, default); // not kept for the life of the connection
            // Nothing was written through Kestrel's output pipe: from the 101 on, the WebSocket writes to the socket itself.
            return _socket = await PipeWebSocket.AcceptAsync(connection.Transport, Socket, key, keepAlive);
        }

        public void Heartbeat(TimeProvider time) => _socket?.Heartbeat(time);

        public void Abort() => connection.Abort();
    }
}
