using Dapper;
using SignalStream.Protocol;

namespace SignalStream.Server.Storage;

public sealed class PostgresSignalStore(PostgresDatabase db) : ISignalStore
{
    private const string Columns = "seq AS Seq, id AS Id, min_tier AS MinTier, symbol AS Symbol, payload AS Json";

    public Task InitializeAsync(CancellationToken ct) => db.MigrateAsync(ct);

    public async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewSignal> batch, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // The counter row is the deployment's sequencer: whoever holds it appends next, on any node. Locked once per batch.
        var last = await connection.ExecuteScalarAsync<long>("SELECT value FROM counters WHERE name = 'signal_seq' FOR UPDATE", transaction: tx);
        var existing = (await connection.QueryAsync<SignalRow>(
                $"SELECT {Columns}, source AS Source, external_id AS ExternalId FROM signals WHERE (source, external_id) IN (SELECT * FROM unnest(@sources, @externalIds))",
                new { sources = batch.Select(s => s.Source).ToArray(), externalIds = batch.Select(s => s.ExternalId).ToArray() }, tx))
            .ToDictionary(r => (r.Source, r.ExternalId), r => r.ToStored());

        var results = new AppendResult[batch.Count];
        var created = new List<(NewSignal Signal, StoredSignal Stored)>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            var signal = batch[i];
            if (existing.TryGetValue((signal.Source, signal.ExternalId), out var first))
            {
                results[i] = new AppendResult(first, Duplicate: true);
                continue;
            }
            var stored = new StoredSignal(++last, Ids.New(), signal.MinTier, signal.Symbol, "");
            stored = stored with { Json = signal.BuildJson(stored.Id, stored.Seq) };
            existing[(signal.Source, signal.ExternalId)] = stored; // a repeat later in this batch is a duplicate
            created.Add((signal, stored));
            results[i] = new AppendResult(stored, Duplicate: false);
        }
        if (created.Count > 0)
        {
            await connection.ExecuteAsync(
                """
                INSERT INTO signals (seq, id, source, external_id, symbol, min_tier, payload)
                    SELECT * FROM unnest(@seqs, @ids, @sources, @externalIds, @symbols, @minTiers, @payloads);
                UPDATE counters SET value = @last WHERE name = 'signal_seq';
                DELETE FROM signals WHERE seq <= @floor;
                """,
                new
                {
                    seqs = created.Select(c => c.Stored.Seq).ToArray(),
                    ids = created.Select(c => c.Stored.Id).ToArray(),
                    sources = created.Select(c => c.Signal.Source).ToArray(),
                    externalIds = created.Select(c => c.Signal.ExternalId).ToArray(),
                    symbols = created.Select(c => c.Signal.Symbol).ToArray(),
                    minTiers = created.Select(c => (short)c.Signal.MinTier).ToArray(),
                    payloads = created.Select(c => c.Stored.Json).ToArray(),
                    last,
                    floor = last - db.HistoryLimit,
                }, tx);
        }
        await tx.CommitAsync(ct);
        return results;
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
