using Dapper;
using Npgsql;
using SignalStream.Protocol;

namespace SignalStream.Server.Storage;

public sealed class PostgresUserStore(PostgresDatabase db) : IUserStore
{
    private const string Columns = "id AS Id, username AS Username, password_hash AS PasswordHash, tier AS Tier, disabled AS Disabled, version AS Version";
    // Every write bumps one counter row, which it holds until commit: versions are handed out in commit order.
    private const string NextVersion = "(UPDATE counters SET value = value + 1 WHERE name = 'user_version' RETURNING value)";

    public async Task<UserRecord?> FindByIdAsync(string id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<UserRow>($"SELECT {Columns} FROM users WHERE id = @id", new { id }))?.ToRecord();
    }

    public async Task<UserRecord?> FindByUsernameAsync(string username, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<UserRow>($"SELECT {Columns} FROM users WHERE lower(username) = lower(@username)", new { username }))?.ToRecord();
    }

    public async Task<IReadOnlyList<UserRecord>> FindByIdsAsync(IReadOnlyCollection<string> ids, CancellationToken ct)
    {
        if (ids.Count == 0) return [];
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<UserRow>($"SELECT {Columns} FROM users WHERE id = ANY(@ids)", new { ids = ids.ToArray() })).ToRecords();
    }

    public async Task<UserRecord?> CreateAsync(string username, string passwordHash, Tier tier, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        try
        {
            return (await c.QuerySingleAsync<UserRow>(
                $"WITH v AS {NextVersion} INSERT INTO users (id, username, password_hash, tier, disabled, version) SELECT @id, @username, @passwordHash, @tier, FALSE, v.value FROM v RETURNING {Columns}",
                new { id = Ids.New(), username, passwordHash, tier = (short)tier })).ToRecord();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return null;
        }
    }

    public async Task<UserRecord?> UpdateAsync(string id, Tier? tier, string? passwordHash, bool? disabled, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var exists = await c.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM users WHERE id = @id)", new { id }, tx);
        if (!exists) return null;
        var user = (await c.QuerySingleAsync<UserRow>(
            $"""
            WITH v AS {NextVersion}
            UPDATE users SET tier = COALESCE(@tier, tier), password_hash = COALESCE(@passwordHash, password_hash),
                disabled = COALESCE(@disabled, disabled), version = v.value
            FROM v WHERE id = @id RETURNING {Columns}
            """,
            new { id, tier = (short?)tier, passwordHash, disabled }, tx)).ToRecord();
        await tx.CommitAsync(ct);
        return user;
    }

    public async Task<IReadOnlyList<UserRecord>> ListAsync(CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<UserRow>($"SELECT {Columns} FROM users ORDER BY username")).ToRecords();
    }

    public async Task<IReadOnlyList<UserRecord>> ReadChangesAsync(long afterVersion, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<UserRow>($"SELECT {Columns} FROM users WHERE version > @afterVersion ORDER BY version", new { afterVersion })).ToRecords();
    }

    public async Task<long> GetVersionAsync(CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>("SELECT value FROM counters WHERE name = 'user_version'");
    }
}
