using Microsoft.Extensions.Time.Testing;
using SignalStream.Protocol;
using SignalStream.Server.Storage;
using SignalStream.Server.Users;

namespace SignalStream.Server.Tests.Users;

[Trait("Kind", "Unit")]
public sealed class UserDirectoryTests
{
    private sealed class CountingStore : IUserStore
    {
        public int Queries;
        public Tier Tier = Tier.Professional;
        public TaskCompletionSource? Gate;
        public async Task<IReadOnlyList<UserRecord>> FindByIdsAsync(IReadOnlyCollection<string> ids, CancellationToken ct)
        {
            Interlocked.Increment(ref Queries);
            if (Gate is not null) await Gate.Task;
            return ids.Where(i => i != "missing").Select(i => new UserRecord(i, i, "", Tier, false, Queries)).ToList();
        }
        public Task<UserRecord?> FindByIdAsync(string id, CancellationToken ct) => throw new NotSupportedException();
        public Task<UserRecord?> FindByUsernameAsync(string username, CancellationToken ct) => throw new NotSupportedException();
        public Task<UserRecord?> CreateAsync(string username, string passwordHash, Tier tier, CancellationToken ct) => throw new NotSupportedException();
        public Task<UserRecord?> UpdateAsync(string id, Tier? tier, string? passwordHash, bool? disabled, CancellationToken ct) => throw new NotSupportedException();
        public Task<IReadOnlyList<UserRecord>> ListAsync(CancellationToken ct) => throw new NotSupportedException();
        public Task<IReadOnlyList<UserRecord>> ReadChangesAsync(long afterVersion, CancellationToken ct) => throw new NotSupportedException();
        public Task<long> GetVersionAsync(CancellationToken ct) => Task.FromResult(0L);
    }

    [Fact]
    public async Task Get_WhileFeedIsFresh_ServesFromCache_OnceStaleGoesToStore()
    {
        var time = new FakeTimeProvider();
        var store = new CountingStore();
        var directory = new UserDirectory(store, time);
        directory.MarkFresh();
        await directory.GetAsync("a", default);
        await directory.GetAsync("a", default);
        Assert.Equal(1, store.Queries);

        store.Tier = Tier.Starter;
        time.Advance(UserDirectory.MaxStaleness);
        Assert.Equal(Tier.Starter, (await directory.GetAsync("a", default))!.Tier);
        Assert.Equal(2, store.Queries);
    }

    [Fact]
    public async Task Get_ManyMissingUsersAtOnce_AreLoadedInBatches()
    {
        var store = new CountingStore { Gate = new TaskCompletionSource() };
        var directory = new UserDirectory(store, new FakeTimeProvider());
        directory.MarkFresh();
        var first = directory.GetAsync("u0", default).AsTask();
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref store.Queries) == 1, TimeSpan.FromSeconds(30)));
        // While the first load waits on the store, 500 more lookups (one unknown user among them) pile up.
        var rest = Enumerable.Range(1, 500).Select(i => directory.GetAsync(i == 250 ? "missing" : $"u{i}", default).AsTask()).ToList();
        store.Gate.SetResult();
        await first;
        var users = await Task.WhenAll(rest);
        Assert.InRange(store.Queries, 2, 3); // not 501
        Assert.Single(users, u => u is null);
    }
}
