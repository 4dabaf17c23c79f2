namespace SignalStream.Client;

/// <summary>
/// Decides whether the client reconnects after losing (or failing to open) its connection, and after how long.
/// Replace it through <see cref="SignalStreamClientOptions.ReconnectPolicy"/>.
/// </summary>
public interface IReconnectPolicy
{
    /// <summary>The delay before the next attempt, or null to stop for good.</summary>
    /// <param name="context">Why the connection ended and how many attempts failed since the last good one.</param>
    TimeSpan? NextRetryDelay(ReconnectContext context);
}
