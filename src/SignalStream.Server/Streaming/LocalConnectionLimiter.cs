namespace SignalStream.Server.Streaming;

/// <summary>One node: the deployment's count is this node's, kept here.</summary>
public sealed class LocalConnectionLimiter : IConnectionLimiter
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);

    public ValueTask<bool> TryAcquireAsync(string userId, int limit)
    {
        lock (_gate)
        {
            var held = _slots.GetValueOrDefault(userId);
            if (held >= limit) return ValueTask.FromResult(false);
            _slots[userId] = held + 1;
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask ReleaseAsync(string userId)
    {
        lock (_gate)
        {
            var held = _slots.GetValueOrDefault(userId);
            if (held <= 1) _slots.Remove(userId); // an idle user costs nothing
            else _slots[userId] = held - 1;
        }
        return ValueTask.CompletedTask;
    }
}
