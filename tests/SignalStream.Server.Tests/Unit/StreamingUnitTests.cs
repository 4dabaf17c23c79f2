using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using SignalStream.Protocol;
using SignalStream.Server.Fanout;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;
using SignalStream.Server.Streaming;
using SignalStream.Server.Users;

namespace SignalStream.Server.Tests.Unit;

public sealed class StreamConnectionTests
{
    private static readonly ServerMetrics Metrics = new();

    private static OutboundFrame Frame(long seq, Tier minTier = Tier.Starter, string symbol = "BTC-USD") =>
        new(Encoding.UTF8.GetBytes($"{{\"seq\":{seq}}}"), seq, minTier, symbol);

    private static StreamConnection Connection(Tier tier = Tier.Starter, int queue = 16, int pending = 16, string[]? symbols = null) =>
        new("user", new ConnectionFilter(tier, ConnectionFilter.ToSymbolSet(symbols)), DateTimeOffset.UtcNow.AddHours(1), queue, pending, Metrics);

    [Fact]
    public void Offer_WhileHeld_IsQueuedOnlyAfterGoLive_AndNothingAtOrBelowTheReplayedSeq()
    {
        var connection = Connection();
        connection.Offer(Frame(5));
        connection.Offer(Frame(6));
        connection.Offer(Frame(7));
        Assert.Equal(0, connection.QueueDepth);

        connection.GoLive(sentUpTo: 6);
        Assert.Equal(1, connection.QueueDepth); // only 7

        connection.Offer(Frame(7)); // a repeat never queues twice
        connection.Offer(Frame(8));
        Assert.Equal(2, connection.QueueDepth);
    }

    [Fact]
    public void Offer_FilteredByTierAndSymbol()
    {
        var connection = Connection(Tier.Professional, symbols: ["eth-usd"]);
        connection.GoLive(0);
        connection.Offer(Frame(1, Tier.Institutional, "ETH-USD"));
        connection.Offer(Frame(2, Tier.Professional, "BTC-USD"));
        connection.Offer(Frame(3, Tier.Professional, "ETH-USD"));
        Assert.Equal(1, connection.QueueDepth);
    }

    [Fact]
    public void Offer_WhenQueueIsFull_ClosesWithSlowConsumer_WithoutBlocking()
    {
        var connection = Connection(queue: 2);
        connection.GoLive(0);
        for (var seq = 1; seq <= 3; seq++) connection.Offer(Frame(seq));
        Assert.Equal(CloseCodes.SlowConsumer, connection.CloseCode);
    }

    [Fact]
    public void Offer_WhenReplayBufferOverflows_ClosesWithSlowConsumer()
    {
        var connection = Connection(pending: 2);
        for (var seq = 1; seq <= 3; seq++) connection.Offer(Frame(seq));
        Assert.Equal(CloseCodes.SlowConsumer, connection.CloseCode);
    }

    [Fact]
    public void RequestClose_FirstCodeWins()
    {
        var connection = Connection();
        connection.RequestClose(CloseCodes.UserDisabled, "disabled");
        connection.RequestClose(CloseCodes.Normal, "");
        Assert.Equal(CloseCodes.UserDisabled, connection.CloseCode);
    }

    [Fact]
    public void ApplyUser_Downgrade_SwapsFilterAndQueuesTierChanged_DisableCloses4503()
    {
        var connection = Connection(Tier.Institutional);
        connection.GoLive(0);
        Assert.True(connection.ApplyUser(new UserRecord("user", "u", "", Tier.Starter, false, 2)));
        Assert.Equal(Tier.Starter, connection.Tier);
        Assert.Equal(1, connection.QueueDepth); // tier_changed
        connection.Offer(Frame(1, Tier.Professional));
        Assert.Equal(1, connection.QueueDepth);
        Assert.False(connection.ApplyUser(new UserRecord("user", "u", "", Tier.Starter, false, 3)));
        connection.ApplyUser(new UserRecord("user", "u", "", Tier.Starter, true, 4));
        Assert.Equal(CloseCodes.UserDisabled, connection.CloseCode);
    }

    [Fact]
    public void CheckToken_NoticeOnceBeforeExpiry_Closes4001AtExpiry()
    {
        var expiresAt = DateTimeOffset.UtcNow.AddMinutes(1);
        var connection = new StreamConnection("user", new ConnectionFilter(Tier.Starter, null), expiresAt, 16, 16, Metrics);
        connection.CheckToken(expiresAt.AddSeconds(-90), TimeSpan.FromSeconds(60));
        Assert.Equal(0, connection.QueueDepth);
        connection.CheckToken(expiresAt.AddSeconds(-30), TimeSpan.FromSeconds(60));
        connection.CheckToken(expiresAt.AddSeconds(-20), TimeSpan.FromSeconds(60));
        Assert.Equal(1, connection.QueueDepth);
        connection.CheckToken(expiresAt, TimeSpan.FromSeconds(60));
        Assert.Equal(CloseCodes.TokenExpired, connection.CloseCode);
    }

    [Fact]
    public void ForSignal_WrapsStoredJsonWithoutReserializing()
    {
        var frame = OutboundFrame.ForSignal(new StoredSignal(42, "id", Tier.Professional, "BTC-USD", "{\"id\":\"id\",\"seq\":42}"));
        Assert.Equal("{\"type\":\"signal\",\"seq\":42,\"signal\":{\"id\":\"id\",\"seq\":42}}", Encoding.UTF8.GetString(frame.Utf8.Span));
        Assert.Equal(Tier.Professional, frame.MinTier);
    }
}

public sealed class HubTests
{
    private static StreamConnection New(string user = "u") => new(user, new ConnectionFilter(Tier.Starter, null), DateTimeOffset.MaxValue, 4, 4, new ServerMetrics());

    [Fact]
    public void TryAdd_OverPerUserLimit_Refuses_AndRemoveFreesTheSlot()
    {
        var hub = new ConnectionHub(new ServerMetrics());
        var a = New();
        Assert.Equal(HubEntry.Added, hub.TryAdd(a, 2, 100, out _));
        Assert.Equal(HubEntry.Added, hub.TryAdd(New(), 2, 100, out _));
        Assert.Equal(HubEntry.UserAtLimit, hub.TryAdd(New(), 2, 100, out _));
        hub.Remove(a);
        Assert.Equal(HubEntry.Added, hub.TryAdd(New(), 2, 100, out _));
        Assert.Equal(2, hub.Count);
    }

    [Fact]
    public void CopyTo_ReplacesTheListsContent_WithTheLiveConnections()
    {
        var hub = new ConnectionHub(new ServerMetrics());
        var (a, b, gone) = (New("a"), New("b"), New("c"));
        foreach (var c in new[] { a, b, gone }) hub.TryAdd(c, 1, 100, out _);
        hub.Remove(gone);
        var list = new List<StreamConnection> { gone };
        hub.CopyTo(list);
        Assert.Equal(new[] { a, b }.ToHashSet(), list.ToHashSet());
        Assert.Equal(2, list.Count);
    }

    [Fact]
    public async Task TryAdd_FromManyThreadsAtOnce_NeverOvershootsCapacity()
    {
        var hub = new ConnectionHub(new ServerMetrics());
        using var start = new Barrier(8);
        var added = await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            return Enumerable.Range(0, 100).Count(i => hub.TryAdd(New($"user-{t}-{i}"), 1, 250, out _) == HubEntry.Added);
        }, TaskCreationOptions.LongRunning))); // a thread each: the barrier blocks
        Assert.Equal(250, added.Sum());
        Assert.Equal(250, hub.Count);
        Assert.Equal(HubEntry.AtCapacity, hub.TryAdd(New("one-more"), 1, 250, out _));
    }
}

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
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref store.Queries) == 1, TimeSpan.FromSeconds(5)));
        // While the first load waits on the store, 500 more lookups (one unknown user among them) pile up.
        var rest = Enumerable.Range(1, 500).Select(i => directory.GetAsync(i == 250 ? "missing" : $"u{i}", default).AsTask()).ToList();
        store.Gate.SetResult();
        await first;
        var users = await Task.WhenAll(rest);
        Assert.InRange(store.Queries, 2, 3); // not 501
        Assert.Single(users, u => u is null);
    }
}

public sealed class PolicyTests
{
    [Theory]
    [InlineData("?token=abc&after_seq=5", "?token=[redacted]&after_seq=5")]
    [InlineData("?ticket=abc", "?ticket=[redacted]")]
    [InlineData("?symbols=BTC&api_key=k", "?symbols=BTC&api_key=[redacted]")]
    [InlineData("", "")]
    [InlineData("?X-API-Key=k&limit=5", "?X-API-Key=[redacted]&limit=5")]
    [InlineData("?%74oken=abc", "?token=[redacted]")]
    [InlineData("?eyJhbGciOiJIUzI1NiJ9.e30.sig&symbols=BTC-USD", "?[redacted]&symbols=BTC-USD")]
    [InlineData("?sessionid=abc&premium_only=true", "?[redacted]&premium_only=true")]
    public void Redact_RemovesSecretsFromQuery(string query, string expected) => Assert.Equal(expected, RequestLogging.Redact(query));

    [Theory]
    [InlineData(null, true)]
    [InlineData("https://app.example", true)]
    [InlineData("https://app.example.evil", false)]
    [InlineData("https://evil.example", false)]
    [InlineData("null", false)]
    [InlineData("HTTPS://APP.EXAMPLE", false)]
    public void Origin_ExactMatchOnly(string? origin, bool allowed) =>
        Assert.Equal(allowed, OriginPolicy.IsAllowed(origin, "http://localhost:9001", ["https://app.example"]));

    [Fact]
    public void Origin_WithoutAllowList_OnlyTheServersOwn()
    {
        Assert.True(OriginPolicy.IsAllowed("http://localhost:9001", "http://localhost:9001", []));
        Assert.False(OriginPolicy.IsAllowed("http://localhost:9002", "http://localhost:9001", []));
        Assert.False(OriginPolicy.IsAllowed("", "http://localhost:9001", []));
    }
}
