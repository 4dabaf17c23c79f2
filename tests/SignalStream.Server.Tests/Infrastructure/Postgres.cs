using Npgsql;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server that scripts/test.sh starts (SIGNALSTREAM_TEST_POSTGRES). Each caller
/// gets a fresh database of its own. A missing server fails the test: nothing is skipped.
/// </summary>
public static class Postgres
{
    public static string ServerConnectionString => WithTestTimeouts(
        Environment.GetEnvironmentVariable("SIGNALSTREAM_TEST_POSTGRES")
        ?? throw new InvalidOperationException("SIGNALSTREAM_TEST_POSTGRES is not set: run the tests with scripts/test.sh, which starts PostgreSQL"));

    /// <summary>
    /// <paramref name="connectionString"/> with timeouts for a busy machine: with both cores loaded, opening
    /// a connection can take longer than Npgsql's 15 s or the server's own 3 s, which would fail a node's start.
    /// </summary>
    public static string WithTestTimeouts(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 60, CommandTimeout = 60 }.ConnectionString;

    public static string RedisEndpoint =>
        Environment.GetEnvironmentVariable("SIGNALSTREAM_TEST_REDIS")
        ?? throw new InvalidOperationException("SIGNALSTREAM_TEST_REDIS is not set: run the tests with scripts/test.sh, which starts Redis");

    public static async Task<string> CreateDatabaseAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N");
        await using var connection = new NpgsqlConnection(ServerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
    }
}
