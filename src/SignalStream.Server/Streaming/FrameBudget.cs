using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SignalStream.Protocol;
using SignalStream.Server.Auth;
using SignalStream.Server.Hosting;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;
using SignalStream.Server.Transport;
using SignalStream.Server.Users;

namespace SignalStream.Server.Streaming;

/// <summary>
/// Per-connection counters for the frame rules: the message rate (<see cref="RateWindow"/>) and a
/// count of bad frames.
/// </summary>
internal sealed class FrameBudget(WebSocketsOptions options, TimeProvider time)
{
    private RateWindow _messages;
    private int _bad;

    public FrameVerdict CountMessage() => _messages.Count(options.MessagesPerSecond, time);

    /// <summary>True when the budget of bad frames is spent.</summary>
    public bool CountBadFrame() => ++_bad >= options.MaxBadFrames;
}
