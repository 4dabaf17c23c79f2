using SignalStream.Server.Streaming;

namespace SignalStream.Server.Tests.Streaming;

/// <summary>
/// The guarantees written on <see cref="IConnectionLimiter"/>, held by one suite against a one-node
/// deployment (<see cref="LocalConnectionLimiter"/>) and a three-node one (ClusterPresence over a real Redis).
/// Slots are taken round the nodes, so the cluster's count must be the deployment's.
/// </summary>
[Trait("Kind", "Functional")]
public abstract class ConnectionLimiterSpec : IAsyncLifetime
{
    private const int Limit = 3;
    private IReadOnlyList<IConnectionLimiter> _nodes = [];

    /// <summary>The limiters of every node of one deployment.</summary>
    protected abstract Task<IReadOnlyList<IConnectionLimiter>> CreateDeploymentAsync();

    public virtual async Task InitializeAsync() => _nodes = await CreateDeploymentAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private IConnectionLimiter Node(int i) => _nodes[i % _nodes.Count];

    [Fact]
    public async Task Acquire_UpToTheLimitOnAllNodesTogether_ThenRefusedEverywhere_OtherUsersUntouched()
    {
        for (var i = 0; i < Limit; i++) Assert.True(await Node(i).TryAcquireAsync("alice", Limit));
        for (var i = 0; i < _nodes.Count; i++) Assert.False(await Node(i).TryAcquireAsync("alice", Limit));
        Assert.True(await Node(0).TryAcquireAsync("bob", Limit));
    }

    [Fact]
    public async Task Release_GivesTheSlotBack_AndARefusalTookNone()
    {
        for (var i = 0; i < Limit; i++) Assert.True(await Node(i).TryAcquireAsync("alice", Limit));
        for (var i = 0; i < 5; i++) Assert.False(await Node(i).TryAcquireAsync("alice", Limit));

        await Node(1).ReleaseAsync("alice");
        Assert.True(await Node(2).TryAcquireAsync("alice", Limit));
        Assert.False(await Node(0).TryAcquireAsync("alice", Limit));

        foreach (var i in new[] { 0, 2, 2 }) await Node(i).ReleaseAsync("alice"); // each node gives back the slots it took
        for (var i = 0; i < Limit; i++) Assert.True(await Node(i).TryAcquireAsync("alice", Limit));
    }

    [Fact]
    public async Task Acquire_ManyAtOnceOnEveryNode_NeverOvershoots()
    {
        using var start = new Barrier(24);
        var granted = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            return Node(i).TryAcquireAsync("carol", Limit).AsTask().GetAwaiter().GetResult();
        }, TaskCreationOptions.LongRunning))); // a thread each: the barrier blocks
        Assert.Equal(Limit, granted.Count(g => g));
    }
}
