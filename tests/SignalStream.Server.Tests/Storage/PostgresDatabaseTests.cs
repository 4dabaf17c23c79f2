using Microsoft.Extensions.Options;
using Npgsql;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Tests.Storage;

[Trait("Kind", "Unit")]
public sealed class PostgresDatabaseTests
{
    [Theory]
    [InlineData("Host=127.0.0.1;Database=signalstream", 3, 10)] // fail fast by default
    [InlineData("Host=127.0.0.1;Database=signalstream;Timeout=30;Command Timeout=60", 30, 60)]
    [InlineData("Host=127.0.0.1;Database=signalstream;timeout=20;CommandTimeout=40", 20, 40)]
    [InlineData("Host=127.0.0.1;Database=signalstream;Command Timeout=60", 3, 60)]
    public async Task Timeouts_AreThreeAndTenSeconds_UnlessTheConnectionStringSetsThem(string connectionString, int connect, int command)
    {
        await using var db = new PostgresDatabase(Options.Create(new StorageOptions { Provider = "postgres", ConnectionString = connectionString }));
        var used = new NpgsqlConnectionStringBuilder(db.DataSource.ConnectionString);
        Assert.Equal((connect, command), (used.Timeout, used.CommandTimeout));
    }
}
