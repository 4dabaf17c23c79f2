using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SignalStream.Protocol;
using SignalStream.Server.Auth;
using SignalStream.Server.Fanout;
using SignalStream.Server.Http;
using SignalStream.Server.Observability;
using SignalStream.Server.Transport;
using SignalStream.Server.Users;

namespace SignalStream.Server.Streaming;

/// <summary>
/// The life of one admitted connection: the upgrade, welcome, optional replay, then reading client
/// frames until either side closes; last, its slot in the hub and the per-user limit is given back.
/// Client frames are held to a size limit (1009), text only (1003), a rate (error, then 4003 on a
/// flood) and a budget of bad frames (error each, then 4501).
/// </summary>
public sealed class StreamSession(
    IOptions<WebSocketsOptions> wsOptions,
    ConnectionHub hub,
    IConnectionLimiter limiter,
    TokenService tokens,
    UserDirectory users,
    Replay replay,
    SignalFeed feed,
    ServerMetrics metrics,
    CloseLog closeLog,
    TimeProvider time,
    ILogger<StreamSession> logger)
{
    private const int ReceiveChunkBytes = 4096;

    /// <summary>One async frame for the whole life, and one for the read loop: each costs every idle connection its state.</summary>
    public async Task RunAsync(AdmittedStream admitted, IStreamTransport transport)
    {
        var options = wsOptions.Value;
        var (connection, user, lastSeq, afterSeq, epoch) = admitted;
        try
        {
            // A slow reader's backlog belongs in its bounded queue, not in an autotuned kernel buffer (SendBufferBytes).
            if (options.SendBufferBytes > 0 && transport.Socket is { } tcp)
                tcp.SendBufferSize = options.SendBufferBytes;
            // Ping every interval, then one more interval for the pong: a half-open socket is gone after two.
            // The client's protocol pings are held to the message rate.
            using var socket = await transport.AcceptAsync(new KeepAlive(options.HeartbeatInterval, options.HeartbeatInterval, options.MessagesPerSecond));
            metrics.Upgrades.WithLabels(transport.Path).Inc();
            // Sends carry no token (see StreamConnection), so a write stuck past the close timeout ends by aborting the transport.
            connection.Attach(socket, transport);
            logger.ConnectionOpened(connection.Id, connection.UserId, connection.Tier.ToWire(), transport.Path);
            var brokeRule = false;
            connection.Send(OutboundFrame.Control(
                new WelcomeMessage(connection.Id, user.Id, connection.Tier, lastSeq, (int)options.HeartbeatInterval.TotalMilliseconds, time.GetUtcNow()) { Epoch = feed.Epoch },
                ProtocolJson.Default.WelcomeMessage), flush: afterSeq < 0); // a replay sends it with its first frames
            try
            {
                if (afterSeq >= 0) await ReplayAsync(connection, afterSeq, epoch);
                else connection.GoLive(0); // the hub offers only seqs above lastSeq; nothing was sent yet, so a later resume may still replay up to it
                await ReceiveAsync(socket, connection, options);
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
            {
                // Faulted: the socket refused a frame that broke a rule (1007, 4003...) and sent its close.
                brokeRule = e is WebSocketException { WebSocketErrorCode: WebSocketError.Faulted };
                logger.ConnectionFailed(connection.Id, e);
            }
            finally
            {
                // The server's close code, else the client's, else 0: the connection was dropped without one.
                var serverClosed = connection.IsClosing;
                var code = serverClosed ? connection.CloseCode : (int?)socket.CloseStatus ?? 0;
                var initiator = serverClosed || (brokeRule && code != 0) ? CloseInitiator.Server : code != 0 ? CloseInitiator.Client : CloseInitiator.None;
                connection.RequestClose(CloseCodes.Normal, "");
                await connection.Closed;
                // No Abort here: it would throw away a close frame the platform queued on a protocol error.
                metrics.Disconnects.WithLabels(code.ToString(System.Globalization.CultureInfo.InvariantCulture), initiator).Inc();
                if (initiator == CloseInitiator.Server)
                    closeLog.ServerClosed(connection.Id, connection.UserId, code, serverClosed ? connection.CloseReason : socket.CloseStatusDescription ?? "");
                else logger.ConnectionClosed(connection.Id, code);
            }
        }
        finally
        {
            connection.Detach();
            hub.Remove(connection);
            await limiter.ReleaseAsync(connection.UserId);
        }
    }

    private async Task ReplayAsync(StreamConnection connection, long afterSeq, string? epoch)
    {
        try
        {
            await replay.RunAsync(connection, afterSeq, epoch, connection.Aborted);
        }
        catch (Exception e) when (Problems.IsOutage(e))
        {
            logger.ReplayFailed(connection.Id, e);
            connection.RequestClose(CloseCodes.TryAgainLater, "history unavailable, reconnect later");
        }
    }

    private async Task ReceiveAsync(WebSocket socket, StreamConnection connection, WebSocketsOptions options)
    {
        FrameBudget? budget = null; // most clients never send a message: no counters until one does
        byte[]? message = null; // rented only while a message is being read: an idle connection holds no buffer
        var length = 0;
        try
        {
            while (true)
            {
                if (message is null)
                {
                    // A zero-byte read waits for the next frame without a buffer. Reads carry no token (a
                    // registration per idle connection): a connection that must end aborts its transport.
                    var header = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                    if (header.MessageType == WebSocketMessageType.Close) return;
                    message = ArrayPool<byte>.Shared.Rent(ReceiveChunkBytes);
                }
                if (length == message.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(message.Length * 4, options.MaxMessageBytes + 1));
                    message.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(message);
                    message = larger;
                }
                // The socket fills the buffer it is given before returning, so never offer room past the
                // limit: one byte over is all it takes to refuse a frame that claims ten megabytes.
                var room = Math.Min(message.Length, options.MaxMessageBytes + 1) - length;
                var result = await socket.ReceiveAsync(message.AsMemory(length, room), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close) return;
                length += result.Count;
                if (connection.IsClosing) { length = 0; continue; } // waiting for the client's close
                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    connection.RequestClose(CloseCodes.BinaryNotSupported, "binary frames are not supported", drain: true);
                    length = 0;
                    continue;
                }
                if (length > options.MaxMessageBytes)
                {
                    // Refused as soon as the limit is passed: the rest of the message is never buffered.
                    metrics.Drops.WithLabels("client_frame_too_big").Inc();
                    connection.RequestClose(CloseCodes.MessageTooBig, $"message over {options.MaxMessageBytes} bytes", drain: true);
                    length = 0;
                    continue;
                }
                if (!result.EndOfMessage) continue;

                await HandleAsync(connection, message.AsMemory(0, length), budget ??= new FrameBudget(options, time));
                length = 0;
                ArrayPool<byte>.Shared.Return(message);
                message = null;
            }
        }
        finally
        {
            if (message is not null) ArrayPool<byte>.Shared.Return(message);
        }
    }

    private async Task HandleAsync(StreamConnection connection, ReadOnlyMemory<byte> utf8, FrameBudget budget)
    {
        switch (budget.CountMessage())
        {
            case FrameVerdict.Flood:
                metrics.Drops.WithLabels("client_flood").Inc();
                connection.RequestClose(CloseCodes.RateLimited, "rate limited", drain: true);
                return;
            case FrameVerdict.OverRate:
                Refuse(connection, budget, ErrorCodes.RateLimited, "too many messages; slow down", isBad: false);
                return;
        }

        ClientMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(utf8.Span, ProtocolJson.Default.ClientMessage);
        }
        catch (JsonException)
        {
            Refuse(connection, budget, ErrorCodes.InvalidJson, "frame is not a JSON object of this protocol");
            return;
        }

        switch (message?.Type)
        {
            case MessageTypes.Ping:
                hub.SendAfterBroadcasts(connection, OutboundFrame.Control(new PongMessage(message.Ts), ProtocolJson.Default.PongMessage));
                break;
            case MessageTypes.Subscribe when message.Symbols is { } symbols:
                if (symbols.Length > SymbolRule.MaxPerFilter || !symbols.All(SymbolRule.IsValidSymbol))
                    Refuse(connection, budget, ErrorCodes.InvalidField, $"symbols: at most {SymbolRule.MaxPerFilter} valid symbols");
                else connection.ChangeSymbols(symbols);
                break;
            case MessageTypes.Resume when message.AfterSeq is >= 0:
                await ReplayAsync(connection, message.AfterSeq.Value, message.Epoch);
                break;
            case MessageTypes.Refresh when !string.IsNullOrEmpty(message.Token):
                await RefreshAsync(connection, message.Token, budget);
                break;
            case MessageTypes.Subscribe or MessageTypes.Resume or MessageTypes.Refresh:
                Refuse(connection, budget, ErrorCodes.InvalidField, $"{message.Type}: missing or invalid field");
                break;
            case null:
                Refuse(connection, budget, ErrorCodes.InvalidField, "type is required");
                break;
            default:
                Refuse(connection, budget, ErrorCodes.UnknownType, "unknown message type");
                break;
        }
    }

    private async Task RefreshAsync(StreamConnection connection, string token, FrameBudget budget)
    {
        var validated = await tokens.ValidateAsync(token);
        if (validated is not { } v || v.UserId != connection.UserId)
        {
            Refuse(connection, budget, ErrorCodes.InvalidToken, "token invalid or for another user");
            return;
        }
        var user = await users.GetAsync(v.UserId, connection.Aborted);
        if (user is null || user.Disabled)
        {
            connection.RequestClose(CloseCodes.UserDisabled, "user disabled");
            return;
        }
        connection.ExtendToken(v.ExpiresAt);
    }

    private static void Refuse(StreamConnection connection, FrameBudget budget, string code, string text, bool isBad = true)
    {
        connection.Send(OutboundFrame.Control(new ErrorMessage(code, text), ProtocolJson.Default.ErrorMessage));
        // The client broke the rules: it still gets every error queued so far, then the close.
        if (isBad && budget.CountBadFrame()) connection.RequestClose(CloseCodes.TooManyBadFrames, "too many bad frames", drain: true);
    }
}
