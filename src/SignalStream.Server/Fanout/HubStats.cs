namespace SignalStream.Server.Fanout;

/// <summary>A consistent count of this node's connections.</summary>
public sealed record HubStats(int TotalConnections, int ActiveUsers, int[] UsersByTier, int[] ConnectionsByTier, long LastSeq);
