namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>
/// Waits for a condition the server reaches on its own time (a slot freed after a socket died),
/// by asking again every few milliseconds up to a deadline: never a fixed sleep.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        TrueAsync(() => Task.FromResult(condition()), what, timeout);

    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not in time: {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>Asks until <paramref name="attempt"/> answers something (not null).</summary>
    public static async Task<T> ResultAsync<T>(Func<Task<T?>> attempt, string what, TimeSpan? timeout = null) where T : class
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            if (await attempt() is { } result) return result;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not in time: {what}");
            await Task.Delay(50);
        }
    }
}
