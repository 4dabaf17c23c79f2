using Dapper;
using SignalStream.Protocol;

namespace SignalStream.Server.Storage;

public sealed class PostgresSignalStore(PostgresDatabase db) : ISignalStore
{
    private const string Columns = "seq AS Seq, id AS Id, min_tier AS MinTier, symbol AS Symbol, payload AS Json";

    public Task InitializeAsync(CancellationToken ct) => db.MigrateAsync(ct);

    public async Task<AppendResult> AppendAsync(string source, string externalId, string symbol, Tier minTier, Func<string, long, string> buildJson, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // The counter row is the deployment's sequencer: whoever holds it appends next, on any node.
        var last = await connection.ExecuteScalarAsync<long>("SELECT value FROM counters WHERE name = 'signal_seq' FOR UPDATE", transaction: tx);
        var existing = await connection.QuerySingleOrDefaultAsync<SignalRow>(
            $"SELECT {Columns} FROM signals WHERE source = @source AND external_id = @externalId", new { source, externalId }, tx);
        if (existing is not null)
        {
            await tx.CommitAsync(ct);
            return new AppendResult(existing.ToStored(), Duplicate: true);
        }
        var seq = last + 1;
        var id = Ids.New();
        var json = buildJson(id, seq);
        await connection.ExecuteAsync(
            """
            INSERT INTO signals (seq, id, source, external_id, symbol, min_tier, payload) VALUES (@seq, @id, @source, @externalId, @symbol, @minTier, @json);
            UPDATE counters SET value = @seq WHERE name = 'signal_seq';
            DELETE FROM signals WHERE seq <= @floor;
            """,
            new { seq, id, source, externalId, symbol, minTier = (short)minTier, json, floor = seq - db.HistoryLimit }, tx);
        await tx.CommitAsync(ct);
        return new AppendResult(new StoredSignal(seq, id, minTier, symbol, json), Duplicate: false);
    }

    public async Task<IReadOnlyList<StoredSignal>> ReadAfterAsync(long afterSeq, Tier tier, int limit, bool premiumOnly, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        return (await connection.QueryAsync<SignalRow>(new CommandDefinition(
            $"SELECT {Columns} FROM signals WHERE seq > @afterSeq AND min_tier <= @tier AND min_tier >= @floor ORDER BY seq LIMIT @limit",
            new { afterSeq, tier = (short)tier, floor = (short)(premiumOnly ? Tier.Professional : Tier.Starter), limit }, cancellationToken: ct))).ToStored();
    }

    public async Task<IReadOnlyList<StoredSignal>> ReadLatestAsync(Tier tier, int limit, bool premiumOnly, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        return (await connection.QueryAsync<SignalRow>(new CommandDefinition(
            $"SELECT {Columns} FROM signals WHERE min_tier <= @tier AND min_tier >= @floor ORDER BY seq DESC LIMIT @limit",
            new { tier = (short)tier, floor = (short)(premiumOnly ? Tier.Professional : Tier.Starter), limit }, cancellationToken: ct))).ToStored();
    }

    public async Task<HistoryBounds> GetBoundsAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        var (last, oldest, epoch) = await connection.QuerySingleAsync<(long, long?, string)>(
            "SELECT (SELECT value FROM counters WHERE name = 'signal_seq'), (SELECT MIN(seq) FROM signals), (SELECT epoch FROM history)");
        return new HistoryBounds(oldest ?? last + 1, last, epoch);
    }
}
