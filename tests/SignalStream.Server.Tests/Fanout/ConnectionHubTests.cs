using System.Text;
using SignalStream.Protocol;
using SignalStream.Server.Fanout;
using SignalStream.Server.Observability;
using SignalStream.Server.Tests.Infrastructure;

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

    /// <summary>A hub whose first connection's socket blocks the next write: a broadcast's pass stops in that <c>send()</c>.</summary>
    private static (ConnectionHub Hub, StreamConnection Slow, ScriptedSocket Socket, ManualResetEventSlim Release) WithAPassStuckInASend()
    {
        var hub = new ConnectionHub(new ServerMetrics());
        var slow = Live(New("slow"), out var socket);
        Assert.Equal(HubEntry.Added, hub.TryAdd(slow, 1, 100, out _));
        var (entered, release) = socket.BlockNextWrite();
        hub.Broadcast(new OutboundFrame("{\"seq\":1}"u8.ToArray(), 1));
        Assert.True(entered.Wait(TimeSpan.FromSeconds(30)), "the shard's pass reached the blocking send");
        return (hub, slow, socket, release);
    }

    private static StreamConnection Live(StreamConnection connection, out ScriptedSocket socket)
    {
        connection.Attach(socket = new ScriptedSocket());
        connection.GoLive(0);
        return connection;
    }

    /// <summary>Adds connections until one lands on <paramref name="shard"/>; the others leave again.</summary>
    private static StreamConnection JoinShard(ConnectionHub hub, int shard, StreamConnection joiner, out long joinedAfter)
    {
        for (var i = 0; ; i++)
        {
            Assert.Equal(HubEntry.Added, hub.TryAdd(joiner, 1, 1000, out joinedAfter));
            if (joiner.Shard == shard) return joiner;
            hub.Remove(joiner);
            Assert.True(i < 1000, "round-robin reached every shard");
        }
    }

    [Fact]
    public async Task JoiningAndLeaving_NeverWaitForAShardsSends_AndAJoinerStartsAfterThePassUnderWay()
    {
        var (hub, slow, socket, release) = WithAPassStuckInASend();
        var joiner = New("joiner");
        long joinedAfter = -1;
        var join = Task.Run(() => JoinShard(hub, slow.Shard, joiner, out joinedAfter));
        var joined = await Task.WhenAny(join, Task.Delay(TimeSpan.FromSeconds(30))) == join;
        release.Set();
        Assert.True(joined, "joining and leaving did not wait for the blocked send");
        Assert.Equal(1, joinedAfter); // the pass under way took seq 1: the joiner starts after it
        Assert.Equal(["{\"seq\":1}"], socket.Written);
    }

    [Fact]
    public async Task AFrameSentAfterBroadcasts_FollowsEverySignalBroadcastBefore_EvenWhileItsShardIsBusy()
    {
        var (hub, slow, _, release) = WithAPassStuckInASend();
        var other = JoinShard(hub, slow.Shard, Live(New("other"), out var socket), out _);

        // Seq 2 waits behind the stuck pass; the pong must wait behind seq 2.
        hub.Broadcast(new OutboundFrame("{\"seq\":2}"u8.ToArray(), 2));
        hub.SendAfterBroadcasts(other, OutboundFrame.Control(new PongMessage(7), ProtocolJson.Default.PongMessage));
        Assert.Empty(socket.Written);
        release.Set();
        await Eventually.TrueAsync(() => socket.Written.Count == 2, "seq 2, then the pong");
        Assert.Equal("{\"seq\":2}", socket.Written[0]);
        Assert.Contains("pong", socket.Written[1]);
    }

    [Fact]
    public void AFewConnectionsShareOneShard_AndMoreOpenTheOthers()
    {
        var hub = new ConnectionHub(new ServerMetrics());
        var few = Enumerable.Range(0, 9).Select(i => New($"few-{i}")).ToList();
        foreach (var c in few) Assert.Equal(HubEntry.Added, hub.TryAdd(c, 1, 10_000, out _));
        Assert.Single(few.Select(c => c.Shard).Distinct()); // one loop woken per signal

        var many = Enumerable.Range(0, 200).Select(i => New($"many-{i}")).ToList();
        foreach (var c in many) hub.TryAdd(c, 1, 10_000, out _);
        Assert.Single(many.Take(64 - few.Count).Select(c => c.Shard).Distinct()); // up to 64 share it
        Assert.True(many.Select(c => c.Shard).Distinct().Count() > 1, "more connections open more shards");
    }

    [Fact]
    public async Task AnEmptyShard_NotesEachSignalWithoutBeingWoken_SoAJoinerStartsAfterTheLast_AndGetsWhatFollows()
    {
        var hub = new ConnectionHub(new ServerMetrics());
        for (var seq = 1; seq <= 3; seq++) hub.Broadcast(new OutboundFrame(Encoding.UTF8.GetBytes($"{{\"seq\":{seq}}}"), seq));
        Assert.Equal(HubEntry.Added, hub.TryAdd(Live(New("joiner"), out var socket), 1, 100, out var joinedAfter));
        Assert.Equal(3, joinedAfter); // at once: nothing waited for a shard's loop
        hub.Broadcast(new OutboundFrame("{\"seq\":4}"u8.ToArray(), 4));
        await Eventually.TrueAsync(() => socket.Written.Count == 1, "seq 4 delivered");
        Assert.Equal(["{\"seq\":4}"], socket.Written);
    }
}
