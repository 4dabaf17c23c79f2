namespace SignalStream.Client.Transport;

/// <summary>The WebSocket transport's share of <see cref="SignalStreamClientOptions"/>, fixed when the client is created.</summary>
internal sealed record WebSocketSettings(
    Uri ServerUri,
    TimeSpan ConnectTimeout,
    int MaxFrameBytes,
    TimeSpan? HeartbeatInterval,
    TimeSpan FallbackHeartbeatInterval)
{
    public static WebSocketSettings From(SignalStreamClientOptions options) => new(
        options.ServerUri, options.ConnectTimeout, options.MaxFrameBytes, options.HeartbeatInterval, options.FallbackHeartbeatInterval);
}
