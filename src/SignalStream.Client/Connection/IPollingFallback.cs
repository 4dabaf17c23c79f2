namespace SignalStream.Client.Connection;

/// <summary>Where signals come from while the WebSocket is refused: the <see cref="ConnectionLoop"/> waits out its retry delay here.</summary>
internal interface IPollingFallback
{
    /// <summary>
    /// Delivers signals by other means until <paramref name="due"/>, the next WebSocket attempt.
    /// Returns the error that must stop the client, or null to try the socket again.
    /// </summary>
    Task<Exception?> PollUntilAsync(DateTimeOffset due, ReconnectContext cause, TimeSpan delay, CancellationToken stop);
}
