using System.Collections.Concurrent;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Users;

/// <summary>
/// The in-memory tier cache. Fan-out never asks it (each connection holds its user's tier);
/// connects and REST calls do. Entries are kept current by <see cref="UserChangeFeed"/>, which
/// follows the store's change feed every quarter second on every node. When the feed has not
/// succeeded for <see cref="MaxStaleness"/>, lookups go to the store instead, so a stale tier is
/// never served for longer than that; if the store is down too, the lookup fails (503), never
/// an old premium tier.
/// Users not in the cache are loaded in batches: every lookup that misses while a load is under
/// way joins the next one, so ten thousand clients reconnecting at once cost a handful of queries.
/// </summary>
public sealed class UserDirectory(IUserStore store, TimeProvider time)
{
    public static readonly TimeSpan MaxStaleness = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, UserRecord> _byId = new(StringComparer.Ordinal);
    private readonly Lock _batchGate = new();
    private Dictionary<string, TaskCompletionSource<UserRecord?>> _waiting = new(StringComparer.Ordinal);
    private bool _loading;
    private long _freshUntilTicks;

    /// <summary>The highest store version applied.</summary>
    public long Version { get; private set; }

    public async ValueTask<UserRecord?> GetAsync(string userId, CancellationToken ct)
    {
        if (IsFresh && _byId.TryGetValue(userId, out var cached)) return cached;
        return await Load(userId).WaitAsync(ct);
    }

    /// <summary>Follows the feed from this version on: the store is already the truth for anything older.</summary>
    internal void StartAt(long version) => Version = Math.Max(Version, version);

    /// <summary>Applies changes read from the store's feed to the users this node has cached.</summary>
    internal void Apply(IReadOnlyList<UserRecord> changes)
    {
        foreach (var user in changes)
        {
            if (_byId.ContainsKey(user.Id)) Remember(user);
            if (user.Version > Version) Version = user.Version;
        }
    }

    internal void MarkFresh() => Interlocked.Exchange(ref _freshUntilTicks, (time.GetUtcNow() + MaxStaleness).UtcTicks);

    private bool IsFresh => time.GetUtcNow().UtcTicks < Interlocked.Read(ref _freshUntilTicks);

    private void Remember(UserRecord user) =>
        _byId.AddOrUpdate(user.Id, user, (_, old) => user.Version >= old.Version ? user : old);

    private Task<UserRecord?> Load(string userId)
    {
        lock (_batchGate)
        {
            if (!_waiting.TryGetValue(userId, out var waiter))
                _waiting[userId] = waiter = new(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_loading)
            {
                _loading = true;
                _ = Task.Run(LoadBatchesAsync);
            }
            return waiter.Task;
        }
    }

    private async Task LoadBatchesAsync()
    {
        while (true)
        {
            Dictionary<string, TaskCompletionSource<UserRecord?>> batch;
            lock (_batchGate)
            {
                if (_waiting.Count == 0) { _loading = false; return; }
                batch = _waiting;
                _waiting = new(StringComparer.Ordinal);
            }
            try
            {
                var found = (await store.FindByIdsAsync(batch.Keys, CancellationToken.None)).ToDictionary(u => u.Id, StringComparer.Ordinal);
                foreach (var user in found.Values) Remember(user);
                foreach (var (id, waiter) in batch) waiter.TrySetResult(found.GetValueOrDefault(id));
            }
            catch (Exception e)
            {
                foreach (var waiter in batch.Values) waiter.TrySetException(e);
            }
        }
    }
}
