using SignalStream.Protocol;
using SignalStream.Server.Fanout;
using SignalStream.Server.Observability;

namespace SignalStream.Server.Tests.Fanout;

[Trait("Kind", "Unit")]
public sealed class ConnectionHubTests
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
