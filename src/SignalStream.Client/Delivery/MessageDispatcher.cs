using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using SignalStream.Client.Connection;
using SignalStream.Protocol;

namespace SignalStream.Client.Delivery;

/// <summary>
/// Turns each server frame into what it means for the consumer: signals delivered, resumes reported,
/// gaps fetched, tier and state changes announced. Unreadable frames are logged and skipped; the
/// connection carries on. Frames are handled one at a time, in order.
/// </summary>
internal sealed class MessageDispatcher(
    SignalDelivery delivery,
    RestCatchUp catchUp,
    ResumeState resume,
    ConnectionStatus status,
    ClientEvents events,
    ILogger logger)
{
    public async Task DispatchAsync(WebSocketMessageType kind, ReadOnlyMemory<byte> frame, ISessionControl session, CancellationToken ct)
    {
        if (kind == WebSocketMessageType.Binary)
        {
            Log.InvalidFrame(logger, "binary frame", frame.Length);
            return;
        }
        if (!FrameParser.TryParse(frame.Span, out var message, out var error))
        {
            Log.InvalidFrame(logger, error!, frame.Length);
            return;
        }

        switch (message.Type)
        {
            case MessageTypes.Welcome:
                resume.InitializeIfUnknown(message.LastSeq!.Value, message.Epoch);
                await session.OnWelcomeAsync(message, ct).ConfigureAwait(false);
                Log.Connected(logger, message.ConnectionId, message.Tier?.ToWire(), message.LastSeq, resume.LastSeq);
                status.SetTier(message.Tier);
                status.Set(ConnectionState.Connected);
                status.MarkStarted();
                break;

            case MessageTypes.Signal:
                await delivery.DeliverAsync(FrameParser.SignalOf(message), filterSymbols: false, ct).ConfigureAwait(false);
                break;

            case MessageTypes.ReplayComplete:
                Log.ReplayComplete(logger, message.Count, message.FromSeq, message.ToSeq);
                events.OnResumed(new ResumedEventArgs(ResumeSource.Replay, message.FromSeq, message.Count ?? 0, resume.LastSeq));
                break;

            case MessageTypes.ResyncRequired:
                var before = resume.LastSeq;
                Log.ResyncRequired(logger, message.Reason, message.OldestSeq, before);
                if (message.LastSeq is { } historyLast && resume.TryRebase(message.Epoch, historyLast))
                    Log.HistoryChanged(logger, message.Epoch, historyLast, before);
                var count = await catchUp.RunAsync(session.MarkAlive, ct).ConfigureAwait(false);
                Log.CaughtUp(logger, count, resume.LastSeq);
                events.OnResumed(new ResumedEventArgs(ResumeSource.Rest, before, count, resume.LastSeq));
                break;

            case MessageTypes.TierChanged:
                status.SetTier(message.Tier);
                break;

            case MessageTypes.Pong:
                break;

            case MessageTypes.TokenExpiring:
                session.OnTokenExpiring(message.ExpiresAt);
                break;

            case MessageTypes.Error:
                Log.ServerError(logger, message.Code, message.Message);
                break;

            default:
                Log.UnknownFrame(logger, message.Type!);
                break;
        }
    }
}
