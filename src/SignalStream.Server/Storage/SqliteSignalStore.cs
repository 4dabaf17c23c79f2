using Dapper;
using SignalStream.Protocol;

namespace SignalStream.Server.Storage;

public sealed class SqliteSignalStore(SqliteDatabase db) : ISignalStore
{
    private const string Columns = "seq AS Seq, id AS Id, min_tier AS MinTier, symbol AS Symbol, payload AS Json";

    public Task InitializeAsync(CancellationToken ct) => db.MigrateAsync(ct);

    public async Task<AppendResult> AppendAsync(string source, string externalId, string symbol, Tier minTier, Func<string, long, string> buildJson, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        // IMMEDIATE takes the write lock up front, so the duplicate check and the insert are one step.
        await using var tx = (Microsoft.Data.Sqlite.SqliteTransaction)await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, ct);
        var existing = await connection.QuerySingleOrDefaultAsync<SignalRow>(
            $"SELECT {Columns} FROM signals WHERE source = @source AND external_id = @externalId",
            new { source, externalId }, tx);
        if (existing is not null)
        {
            await tx.CommitAsync(ct);
            return new AppendResult(existing.ToStored(), Duplicate: true);
        }

        var id = Ids.New();
        var seq = await connection.ExecuteScalarAsync<long>(
            "INSERT INTO signals (id, source, external_id, symbol, min_tier, payload) VALUES (@id, @source, @externalId, @symbol, @minTier, '') RETURNING seq",
            new { id, source, externalId, symbol, minTier = (int)minTier }, tx);
        var json = buildJson(id, seq);
        await connection.ExecuteAsync("UPDATE signals SET payload = @json WHERE seq = @seq", new { json, seq }, tx);
        await connection.ExecuteAsync("DELETE FROM signals WHERE seq <= @floor", new { floor = seq - db.HistoryLimit }, tx);
        await tx.CommitAsync(ct);
        return new AppendResult(new StoredSignal(seq, id, minTier, symbol, json), Duplicate: false);
    }

    public async Task<IReadOnlyList<StoredSignal>> ReadAfterAsync(long afterSeq, Tier tier, int limit, bool premiumOnly, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        var rows = await connection.QueryAsync<SignalRow>(new CommandDefinition(
            $"SELECT {Columns} FROM signals WHERE seq > @afterSeq AND min_tier <= @tier AND min_tier >= @floor ORDER BY seq LIMIT @limit",
            new { afterSeq, tier = (int)tier, floor = premiumOnly ? (int)Tier.Professional : 0, limit }, cancellationToken: ct));
        return rows.ToStored();
    }

    public async Task<IReadOnlyList<StoredSignal>> ReadLatestAsync(Tier tier, int limit, bool premiumOnly, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        var rows = await connection.QueryAsync<SignalRow>(new CommandDefinition(
            $"SELECT {Columns} FROM signals WHERE min_tier <= @tier AND min_tier >= @floor ORDER BY seq DESC LIMIT @limit",
            new { tier = (int)tier, floor = premiumOnly ? (int)Tier.Professional : 0, limit }, cancellationToken: ct));
        return rows.ToStored();
    }

    public async Task<HistoryBounds> GetBoundsAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        // sqlite_sequence remembers the last seq even when history was trimmed to nothing.
        var last = await connection.ExecuteScalarAsync<long?>("SELECT seq FROM sqlite_sequence WHERE name = 'signals'") ?? 0;
        var oldest = await connection.ExecuteScalarAsync<long?>("SELECT MIN(seq) FROM signals") ?? last + 1;
        var epoch = await connection.ExecuteScalarAsync<string>("SELECT epoch FROM history");
        return new HistoryBounds(oldest, last, epoch!);
    }
}
