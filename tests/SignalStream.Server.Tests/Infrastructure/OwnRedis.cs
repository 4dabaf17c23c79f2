using Microsoft.Extensions.Options;
using SignalStream.Server.Backplane;
using SignalStream.Server.Cluster;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>
/// A Redis for one test of a spec suite, with the nodes' connections to it: the keys and channel are
/// a fixed <c>signalstream:*</c>, so a shared Redis would mix tests (and a test may kill this one).
/// </summary>
public sealed class OwnRedis : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "signalstream-redis", Guid.NewGuid().ToString("N")[..12]);
    private readonly List<RedisConnection> _connections = [];

    public RedisServer Server { get; }

    private OwnRedis() => Server = new RedisServer(_directory);

    public static async Task<OwnRedis> StartAsync()
    {
        var redis = new OwnRedis();
        await redis.Server.StartAsync();
        return redis;
    }

    /// <summary>A node's connection, as the server makes it.</summary>
    public RedisConnection Connect(string nodeId = "node")
    {
        var connection = new RedisConnection(Options.Create(new BackplaneOptions { Provider = "redis", ConnectionString = $"127.0.0.1:{Server.Port}" }),
            Options.Create(new ClusterOptions { NodeId = nodeId }));
        _connections.Add(connection);
        return connection;
    }

    public void Dispose()
    {
        foreach (var connection in _connections) connection.Dispose();
        Server.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
