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
/// </summary>
public sealed class UserDirectory(IUserStore store, TimeProvider time)
{
    public static readonly TimeSpan MaxStaleness = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, UserRecord> _byId = new(StringComparer.Ordinal);
    private long _freshUntilTicks;

    /// <summary>The highest store version applied.</summary>
    public long Version { get; private set; }

    public async ValueTask<UserRecord?> GetAsync(string userId, CancellationToken ct)
    {
        if (IsFresh && _byId.TryGetValue(userId, out var cached)) return cached;
        var loaded = await store.FindByIdAsync(userId, ct);
        if (loaded is not null) Remember(loaded);
        return loaded;
    }

    /// <summary>Loads the users not yet cached, in one query.</summary>
    public async Task WarmAsync(IReadOnlyCollection<string> userIds, CancellationToken ct)
    {
        var missing = userIds.Where(id => !_byId.ContainsKey(id)).Distinct().ToList();
        foreach (var user in await store.FindByIdsAsync(missing, ct)) Remember(user);
    }

    /// <summary>Applies changes read from the store's feed; answers the ones that changed a cached user.</summary>
    internal IReadOnlyList<UserRecord> Apply(IReadOnlyList<UserRecord> changes)
    {
        var changed = new List<UserRecord>();
        foreach (var user in changes)
        {
            if (_byId.TryGetValue(user.Id, out var old) && (old.Tier != user.Tier || old.Disabled != user.Disabled)) changed.Add(user);
            if (_byId.ContainsKey(user.Id)) Remember(user);
            if (user.Version > Version) Version = user.Version;
        }
        return changed;
    }

    /// <summary>Follows the feed from this version on: the store is already the truth for anything older.</summary>
    internal void StartAt(long version) => Version = Math.Max(Version, version);

    internal void MarkFresh() => Interlocked.Exchange(ref _freshUntilTicks, (time.GetUtcNow() + MaxStaleness).UtcTicks);

    internal void Remember(UserRecord user) =>
        _byId.AddOrUpdate(user.Id, user, (_, old) => user.Version >= old.Version ? user : old);

    private bool IsFresh => time.GetUtcNow().UtcTicks < Interlocked.Read(ref _freshUntilTicks);
}
