using StackExchange.Redis;

namespace SignalStream.Server.Cluster;

/// <summary>Every Redis key and channel name, in one place.</summary>
internal static class RedisKeys
{
    private const string Prefix = "signalstream:";
    public static readonly RedisChannel Signals = RedisChannel.Literal(Prefix + "signals");
    public const string Nodes = Prefix + "nodes";
    public const string Stats = Prefix + "stats";
    public static string Heartbeat(string node) => $"{Prefix}node:{node}";
    public static string Connections(string node) => $"{Prefix}conns:{node}";
    public static string Ticket(string ticket) => $"{Prefix}ticket:{ticket}";
    public static string LoginFailures(string key) => $"{Prefix}login-failures:{key}";
}
