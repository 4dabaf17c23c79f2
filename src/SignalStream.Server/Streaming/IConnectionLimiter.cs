namespace SignalStream.Server.Streaming;

/// <summary>
/// The per-user connection limit across the deployment, counted in slots. Every limiter keeps these,
/// the nodes of a deployment together (tests/…/Streaming/ConnectionLimiterSpec):
/// <list type="number">
/// <item><see cref="TryAcquireAsync"/> takes a slot and answers true while the user holds fewer than
/// <c>limit</c> on all nodes together; otherwise it takes nothing and answers false. Other users' slots
/// do not count.</item>
/// <item>However many acquisitions race, on however many nodes, no more than <c>limit</c> succeed.</item>
/// <item><see cref="ReleaseAsync"/> gives back a slot this node took: once it returns, any node's next acquisition can have it.</item>
/// </list>
/// A cluster limiter that cannot reach its shared count grants, and the hub's own per-node count decides
/// (<see cref="Fanout.ConnectionHub.TryAdd"/>), so an outage never locks users out.
/// </summary>
public interface IConnectionLimiter
{
    ValueTask<bool> TryAcquireAsync(string userId, int limit);
    ValueTask ReleaseAsync(string userId);
}
