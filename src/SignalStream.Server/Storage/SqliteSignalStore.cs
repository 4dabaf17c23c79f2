using Dapper;
using Microsoft.Data.Sqlite;
using SignalStream.Protocol;

namespace SignalStream.Server.Storage;

public sealed class SqliteSignalStore(SqliteDatabase db) : ISignalStore
{
    private const string Columns = "seq AS Seq, id AS Id, min_tier AS MinTier, symbol AS Symbol, payload AS Json";

    public Task InitializeAsync(CancellationToken ct) => db.MigrateAsync(ct);

    public async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewSignal> batch, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        // IMMEDIATE takes the write lock up front: the duplicate checks, the seqs and the inserts are one step,
        // and the batch costs one commit (one fsync of the WAL) however many signals it holds.
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, ct);
        var last = await connection.ExecuteScalarAsync<long>("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'signals'), 0)", transaction: tx);

        // One command of each kind for the whole batch: each is prepared once and rebound per signal.
        await using var find = Command(connection, tx, $"SELECT {Columns} FROM signals WHERE source = $source AND external_id = $externalId", "$source", "$externalId");
        await using var insert = Command(connection, tx,
            "INSERT INTO signals (seq, id, source, external_id, symbol, min_tier, payload) VALUES ($seq, $id, $source, $externalId, $symbol, $minTier, $json)",
            "$seq", "$id", "$source", "$externalId", "$symbol", "$minTier", "$json");
        var results = new AppendResult[batch.Count];
        var created = new Dictionary<(string, string), StoredSignal>();
        for (var i = 0; i < batch.Count; i++)
        {
            var signal = batch[i];
            if (created.TryGetValue((signal.Source, signal.ExternalId), out var earlier))
            {
                results[i] = new AppendResult(earlier, Duplicate: true);
                continue;
            }
            find.Parameters[0].Value = signal.Source;
            find.Parameters[1].Value = signal.ExternalId;
            await using (var reader = await find.ExecuteReaderAsync(ct))
            {
                if (await reader.ReadAsync(ct))
                {
                    results[i] = new AppendResult(new StoredSignal(reader.GetInt64(0), reader.GetString(1), (Tier)reader.GetInt32(2), reader.GetString(3), reader.GetString(4)), Duplicate: true);
                    continue;
                }
            }
            var stored = new StoredSignal(++last, Ids.New(), signal.MinTier, signal.Symbol, "");
            stored = stored with { Json = signal.BuildJson(stored.Id, stored.Seq) };
            object[] values = [stored.Seq, stored.Id, signal.Source, signal.ExternalId, signal.Symbol, (int)signal.MinTier, stored.Json];
            for (var p = 0; p < values.Length; p++) insert.Parameters[p].Value = values[p];
            await insert.ExecuteNonQueryAsync(ct);
            created[(signal.Source, signal.ExternalId)] = stored;
            results[i] = new AppendResult(stored, Duplicate: false);
        }
        if (created.Count > 0)
            await connection.ExecuteAsync("DELETE FROM signals WHERE seq <= @floor", new { floor = last - db.HistoryLimit }, tx);
        await tx.CommitAsync(ct);
        return results;
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction tx, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = tx;
        foreach (var name in parameters) command.Parameters.Add(new SqliteParameter { ParameterName = name });
        return command;
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
