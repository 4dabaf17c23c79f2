using Dapper;
using Microsoft.Data.Sqlite;
using SignalStream.Protocol;

namespace SignalStream.Server.Storage;

public sealed class SqliteUserStore(SqliteDatabase db, TimeProvider time) : IUserStore
{
    private const string Columns = "id AS Id, username AS Username, password_hash AS PasswordHash, tier AS Tier, disabled AS Disabled, version AS Version";
    // Writers are serialized by SQLite, so taking MAX(version)+1 inside the write gives commit-ordered versions.
    private const string NextVersion = "(SELECT COALESCE(MAX(version), 0) + 1 FROM users)";

    public async Task<UserRecord?> FindByIdAsync(string id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<UserRow>($"SELECT {Columns} FROM users WHERE id = @id", new { id }))?.ToRecord();
    }

    public async Task<UserRecord?> FindByUsernameAsync(string username, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<UserRow>($"SELECT {Columns} FROM users WHERE username = @username", new { username }))?.ToRecord();
    }

    public async Task<IReadOnlyList<UserRecord>> FindByIdsAsync(IReadOnlyCollection<string> ids, CancellationToken ct)
    {
        if (ids.Count == 0) return [];
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<UserRow>($"SELECT {Columns} FROM users WHERE id IN @ids", new { ids })).ToRecords();
    }

    public async Task<UserRecord?> CreateAsync(string username, string passwordHash, Tier tier, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        try
        {
            return (await c.QuerySingleAsync<UserRow>(
                $"INSERT INTO users (id, username, password_hash, tier, disabled, version, created_at) VALUES (@id, @username, @passwordHash, @tier, 0, {NextVersion}, @now) RETURNING {Columns}",
                new { id = Ids.New(), username, passwordHash, tier = (int)tier, now = time.GetUtcNow().ToString("O") })).ToRecord();
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 19) // SQLITE_CONSTRAINT: the username is taken
        {
            return null;
        }
    }

    public async Task<UserRecord?> UpdateAsync(string id, Tier? tier, string? passwordHash, bool? disabled, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<UserRow>(
            $"""
            UPDATE users SET tier = COALESCE(@tier, tier), password_hash = COALESCE(@passwordHash, password_hash),
                disabled = COALESCE(@disabled, disabled), version = {NextVersion}
            WHERE id = @id RETURNING {Columns}
            """,
            new { id, tier = (int?)tier, passwordHash, disabled }))?.ToRecord();
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
        return await c.ExecuteScalarAsync<long?>("SELECT MAX(version) FROM users") ?? 0;
    }
}
