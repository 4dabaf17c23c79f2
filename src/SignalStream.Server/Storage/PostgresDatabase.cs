using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using SignalStream.Server.Http;

namespace SignalStream.Server.Storage;

/// <summary>
/// PostgreSQL for production: several nodes share it. Schema created or migrated at start, under
/// an advisory lock so that nodes starting together do not race.
/// </summary>
public sealed class PostgresDatabase : IStorageHealth, IAsyncDisposable
{
    private const long MigrationLock = 0x5157_5354; // any constant shared by every node
    private static readonly string[] Migrations =
    [
        // 1: as SQLite, plus one counter row: appends lock it, so seq is gapless and commit order is seq order.
        """
        CREATE TABLE IF NOT EXISTS users (
            id TEXT PRIMARY KEY,
            username TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            tier SMALLINT NOT NULL,
            disabled BOOLEAN NOT NULL DEFAULT FALSE,
            version BIGINT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now());
        CREATE UNIQUE INDEX IF NOT EXISTS users_username ON users (lower(username));
        CREATE INDEX IF NOT EXISTS users_version ON users (version);
        CREATE TABLE IF NOT EXISTS signals (
            seq BIGINT PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            external_id TEXT NOT NULL,
            symbol TEXT NOT NULL,
            min_tier SMALLINT NOT NULL,
            payload TEXT NOT NULL,
            UNIQUE (source, external_id));
        CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
        INSERT INTO counters (name, value) VALUES ('signal_seq', 0), ('user_version', 0) ON CONFLICT DO NOTHING;
        """,
        // 2: the history's identity, created with it and shared by every node (see HistoryBounds.Epoch).
        """
        CREATE TABLE IF NOT EXISTS history (id SMALLINT PRIMARY KEY CHECK (id = 1), epoch TEXT NOT NULL);
        INSERT INTO history (id, epoch) VALUES (1, @epoch) ON CONFLICT DO NOTHING;
        """,
    ];

    public PostgresDatabase(IOptions<StorageOptions> options)
    {
        var builder = new NpgsqlConnectionStringBuilder(options.Value.ConnectionString
            ?? throw new InvalidOperationException("Storage:ConnectionString is required for PostgreSQL"));
        // Fail fast when the server is down (ingest answers 503 instead of hanging), unless the
        // connection string sets its own timeouts: the keys it set, by their canonical names.
        var given = ((DbConnectionStringBuilder)builder).Keys.Cast<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (!given.Contains("Timeout")) builder.Timeout = 3;
        if (!given.Contains("Command Timeout")) builder.CommandTimeout = 10;
        DataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        HistoryLimit = options.Value.HistoryLimit;
    }

    public NpgsqlDataSource DataSource { get; }
    public int HistoryLimit { get; }

    public ValueTask<NpgsqlConnection> OpenAsync(CancellationToken ct) => DataSource.OpenConnectionAsync(ct);

    public async Task MigrateAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync("SELECT pg_advisory_xact_lock(@MigrationLock)", new { MigrationLock }, tx);
        await connection.ExecuteAsync("CREATE TABLE IF NOT EXISTS schema_version (version INT NOT NULL)", transaction: tx);
        var current = await connection.ExecuteScalarAsync<int?>("SELECT MAX(version) FROM schema_version", transaction: tx) ?? 0;
        for (var version = current; version < Migrations.Length; version++)
        {
            await connection.ExecuteAsync(Migrations[version], new { epoch = Ids.New() }, tx);
            await connection.ExecuteAsync("INSERT INTO schema_version (version) VALUES (@v)", new { v = version + 1 }, tx);
        }
        await tx.CommitAsync(ct);
    }

    public async Task<bool> IsHealthyAsync(CancellationToken ct)
    {
        try
        {
            await using var connection = await OpenAsync(ct);
            return await connection.ExecuteScalarAsync<int>("SELECT 1") == 1;
        }
        catch (Exception e) when (Problems.IsOutage(e))
        {
            return false;
        }
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
