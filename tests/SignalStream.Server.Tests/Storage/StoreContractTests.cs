using SignalStream.Protocol;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Tests.Storage;

/// <summary>
/// The guarantees written on <see cref="ISignalStore"/> and <see cref="IUserStore"/>, held against
/// every provider by one suite: SQLite (a real file) and PostgreSQL (a real server).
/// </summary>
[Trait("Kind", "Functional")]
public abstract class StoreContractTests : IAsyncLifetime
{
    protected const int HistoryLimit = 5;
    protected ISignalStore Signals = null!;
    protected IUserStore Users = null!;

    /// <summary>Creates a second store over the same database: another node.</summary>
    protected abstract Task<(ISignalStore Signals, IUserStore Users)> OpenAsync();

    /// <summary>Creates a store over a new, empty database: a reset.</summary>
    protected abstract Task<ISignalStore> OpenNewDatabaseAsync();

    public virtual async Task InitializeAsync()
    {
        (Signals, Users) = await OpenAsync();
        await Signals.InitializeAsync(default);
    }

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private static NewSignal New(string externalId, Tier tier = Tier.Starter, string source = "src") =>
        new(source, externalId, "BTC-USD", tier, (id, seq) => $"{{\"id\":\"{id}\",\"seq\":{seq}}}");

    private static async Task<AppendResult> Append(ISignalStore store, string externalId, Tier tier = Tier.Starter, string source = "src") =>
        (await store.AppendAsync([New(externalId, tier, source)], default))[0];

    [Fact]
    public async Task AppendBatch_OneSeqPerNewSignal_InBatchOrder_RepeatsInBatchAndHistoryAnswerTheFirst()
    {
        var before = await Append(Signals, "old");
        var results = await Signals.AppendAsync([New("x"), New("old"), New("y", Tier.Institutional), New("x"), New("x", source: "other")], default);

        Assert.Equal([false, true, false, true, false], results.Select(r => r.Duplicate));
        Assert.Equal([before.Signal.Seq + 1, before.Signal.Seq, before.Signal.Seq + 2, before.Signal.Seq + 1, before.Signal.Seq + 3], results.Select(r => r.Signal.Seq));
        Assert.Equal(results[0].Signal.Id, results[3].Signal.Id);
        Assert.Equal(before.Signal.Id, results[1].Signal.Id);
        Assert.Contains($"\"seq\":{before.Signal.Seq + 2}", results[2].Signal.Json, StringComparison.Ordinal);
        var stored = await Signals.ReadAfterAsync(0, Tier.Institutional, 100, false, default);
        Assert.Equal(Enumerable.Range(0, 4).Select(i => before.Signal.Seq + i), stored.Select(s => s.Seq)); // one row each, no gap
        Assert.Equal(before.Signal.Seq + 3, (await Signals.GetBoundsAsync(default)).LastSeq);
    }

    [Fact]
    public async Task Append_AssignsGaplessSeq_AndRepeatReturnsTheFirst()
    {
        var a = await Append(Signals, "a");
        var b = await Append(Signals, "b");
        var again = await Append(Signals, "a");
        Assert.Equal(a.Signal.Seq + 1, b.Signal.Seq);
        Assert.True(again.Duplicate);
        Assert.Equal((a.Signal.Seq, a.Signal.Id), (again.Signal.Seq, again.Signal.Id));
        Assert.Contains($"\"seq\":{b.Signal.Seq}", b.Signal.Json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Append_ConcurrentlyFromTwoNodes_SeqsAreUniqueAndGapless_DuplicatesStoredOnce()
    {
        var (otherNode, _) = await OpenAsync();
        // Four signals, ten copies each, half through each node (fewer than HistoryLimit, so none is trimmed).
        var tasks = Enumerable.Range(0, 40).Select(i => Append(i % 2 == 0 ? Signals : otherNode, $"n{i % 4}")).ToList();
        var results = await Task.WhenAll(tasks);
        var created = results.Where(r => !r.Duplicate).Select(r => r.Signal.Seq).Order().ToList();
        Assert.Equal(4, created.Count);
        Assert.Equal(Enumerable.Range(0, 4).Select(i => created[0] + i), created);
        Assert.All(results.Where(r => r.Duplicate), d => Assert.Contains(d.Signal.Seq, created));
    }

    [Fact]
    public async Task Read_FiltersByTierAndPremium_OrdersAndLimits()
    {
        var open = await Append(Signals, "open");
        var pro = await Append(Signals, "pro", Tier.Professional);
        var inst = await Append(Signals, "inst", Tier.Institutional);

        Assert.Equal([open.Signal.Seq], (await Signals.ReadAfterAsync(0, Tier.Starter, 10, false, default)).Select(s => s.Seq));
        Assert.Equal([open.Signal.Seq, pro.Signal.Seq], (await Signals.ReadAfterAsync(0, Tier.Professional, 10, false, default)).Select(s => s.Seq));
        Assert.Equal([pro.Signal.Seq, inst.Signal.Seq], (await Signals.ReadAfterAsync(0, Tier.Institutional, 10, true, default)).Select(s => s.Seq));
        Assert.Equal([pro.Signal.Seq], (await Signals.ReadAfterAsync(open.Signal.Seq, Tier.Institutional, 1, false, default)).Select(s => s.Seq));
        Assert.Equal([inst.Signal.Seq, pro.Signal.Seq], (await Signals.ReadLatestAsync(Tier.Institutional, 2, false, default)).Select(s => s.Seq));
        Assert.Equal(Tier.Professional, (await Signals.ReadLatestAsync(Tier.Professional, 1, false, default))[0].MinTier);
    }

    [Fact]
    public async Task History_KeepsTheNewestLimit_BoundsReportTheTrim()
    {
        var empty = await Signals.GetBoundsAsync(default);
        Assert.Equal((1, 0), (empty.OldestSeq, empty.LastSeq));
        var seqs = new List<long>();
        for (var i = 0; i < HistoryLimit + 3; i++) seqs.Add((await Append(Signals, $"h{i}")).Signal.Seq);
        var bounds = await Signals.GetBoundsAsync(default);
        Assert.Equal(seqs[^1], bounds.LastSeq);
        Assert.Equal(seqs[^HistoryLimit], bounds.OldestSeq);
        Assert.Equal(HistoryLimit, (await Signals.ReadAfterAsync(0, Tier.Institutional, 100, false, default)).Count);
    }

    [Fact]
    public async Task Epoch_IsCreatedWithTheHistory_KeptByEveryNodeAndStart_ANewDatabaseHasAnother()
    {
        var epoch = (await Signals.GetBoundsAsync(default)).Epoch;
        Assert.False(string.IsNullOrEmpty(epoch));
        await Append(Signals, "e1");

        // Another node (or a restart) over the same database runs the migrations again and keeps it.
        var (otherNode, _) = await OpenAsync();
        await otherNode.InitializeAsync(default);
        await Append(otherNode, "e2");
        Assert.Equal(epoch, (await otherNode.GetBoundsAsync(default)).Epoch);
        Assert.Equal(epoch, (await Signals.GetBoundsAsync(default)).Epoch);

        // A new database is a new history: its seqs start again, under another epoch.
        var reset = await OpenNewDatabaseAsync();
        await reset.InitializeAsync(default);
        var fresh = await reset.GetBoundsAsync(default);
        Assert.Equal(0, fresh.LastSeq);
        Assert.False(string.IsNullOrEmpty(fresh.Epoch));
        Assert.NotEqual(epoch, fresh.Epoch);
    }

    [Fact]
    public async Task Users_CreateFindUpdate_VersionGrowsWithEveryChange_FeedIsInOrder()
    {
        var start = await Users.GetVersionAsync(default);
        var alice = (await Users.CreateAsync("Alice", "hash", Tier.Starter, default))!;
        Assert.Null(await Users.CreateAsync("alice", "hash", Tier.Starter, default)); // usernames are case-insensitive
        var bob = (await Users.CreateAsync("bob", "hash", Tier.Professional, default))!;
        var changed = (await Users.UpdateAsync(alice.Id, Tier.Institutional, null, true, default))!;

        Assert.Equal((Tier.Institutional, true, "hash"), (changed.Tier, changed.Disabled, changed.PasswordHash));
        Assert.True(changed.Version > bob.Version && bob.Version > alice.Version);
        Assert.Null(await Users.UpdateAsync("missing", Tier.Starter, null, null, default));
        Assert.Equal(alice.Id, (await Users.FindByUsernameAsync("ALICE", default))!.Id);
        Assert.Equal(2, (await Users.FindByIdsAsync([alice.Id, bob.Id, "missing"], default)).Count);

        var feed = await Users.ReadChangesAsync(start, default);
        Assert.Equal([bob.Id, alice.Id], feed.Select(u => u.Id));
        Assert.Equal(changed.Version, await Users.GetVersionAsync(default));
    }
}
