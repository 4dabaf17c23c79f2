namespace SignalStream.Server.Streaming;

/// <summary>One node: the hub's own count is the whole truth.</summary>
public sealed class LocalConnectionLimiter : IConnectionLimiter
{
    public ValueTask<bool> TryAcquireAsync(string userId, int limit) => ValueTask.FromResult(true);
    public void Release(string userId) { }
}
