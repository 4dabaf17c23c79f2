using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace SignalStream.Server.Storage;

/// <summary>The embedded default: one SQLite file in WAL mode, schema created or migrated at start.</summary>
public sealed class SqliteDatabase : IStorageHealth
{
    private const long FullSync = 2;

    private static readonly string[] Migrations =
    [
        // 1: users with a change-feed version; signals with seq as the history order.
        """
        CREATE TABLE IF NOT EXISTS users (
            id TEXT PRIMARY KEY,
            username TEXT NOT NULL UNIQUE COLLATE NOCASE,
            password_hash TEXT NOT NULL,
            tier INTEGER NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            version INTEGER NOT NULL,
            created_at TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS users_version ON users(version);
        CREATE TABLE IF NOT EXISTS signals (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            external_id TEXT NOT NULL,
            symbol TEXT NOT NULL,
            min_tier INTEGER NOT NULL,
            payload TEXT NOT NULL,
            UNIQUE (source, external_id));
        """,
        // 2: the history's identity, created with it (see HistoryBounds.Epoch).
        """
        CREATE TABLE history (id INTEGER PRIMARY KEY CHECK (id = 1), epoch TEXT NOT NULL);
        INSERT INTO history (id, epoch) VALUES (1, @epoch);
        """,
    ];

    public SqliteDatabase(IOptions<StorageOptions> storage, IOptions<DataOptions> data)
    {
        var builder = new SqliteConnectionStringBuilder(
            storage.Value.ConnectionString ?? $"Data Source={Path.Combine(data.Value.Directory, "signals.db")}")
        {
            Pooling = true,
        };
        ConnectionString = builder.ToString();
        FilePath = builder.DataSource;
        HistoryLimit = storage.Value.HistoryLimit;
    }

    public string ConnectionString { get; }
    public string FilePath { get; }
    public int HistoryLimit { get; }

    public async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        // No PRAGMAs per open: pooled opens are frequent, and the bundled SQLite's defaults are the
        // settings we want (checked once, in MigrateAsync).
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(ct);
        return connection;
    }

    public async Task MigrateAsync(CancellationToken ct)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(FilePath));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        await using var connection = await OpenAsync(ct);
        await connection.ExecuteAsync("PRAGMA journal_mode=WAL;");
        // synchronous=FULL: a signal is broadcast only after it survives a power loss, not just a crash.
        if (await connection.ExecuteScalarAsync<long>("PRAGMA synchronous;") < FullSync)
            throw new InvalidOperationException("This SQLite build does not default to synchronous=FULL; signals would not be durable before broadcast.");
        var current = await connection.ExecuteScalarAsync<long>("PRAGMA user_version;");
        for (var version = (int)current; version < Migrations.Length; version++)
        {
            await using var tx = await connection.BeginTransactionAsync(ct);
            await connection.ExecuteAsync(Migrations[version], new { epoch = Ids.New() }, tx);
            await connection.ExecuteAsync($"PRAGMA user_version={version + 1};", transaction: tx);
            await tx.CommitAsync(ct);
        }
    }

    public async Task<bool> IsHealthyAsync(CancellationToken ct)
    {
        try
        {
            await using var connection = await OpenAsync(ct);
            return await connection.ExecuteScalarAsync<long>("SELECT 1") == 1;
        }
        catch (DbException)
        {
            return false;
        }
    }
}
