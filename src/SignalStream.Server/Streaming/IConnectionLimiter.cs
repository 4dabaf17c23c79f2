namespace SignalStream.Server.Streaming;

/// <summary>
/// The per-user connection limit across the deployment. The hub enforces it on its own node in
/// any case; a cluster implementation adds the other nodes' connections.
/// </summary>
public interface IConnectionLimiter
{
    /// <summary>Takes a slot for <paramref name="userId"/> unless the user already holds <paramref name="limit"/> anywhere.</summary>
    ValueTask<bool> TryAcquireAsync(string userId, int limit);
    void Release(string userId);
}
