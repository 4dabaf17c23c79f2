using SignalStream.Protocol;

namespace SignalStream.Server.Storage;

/// <summary>A signal as history holds it: the fields fan-out filters on, and the stored form as JSON.</summary>
public sealed record StoredSignal(long Seq, string Id, Tier MinTier, string Symbol, string Json);

/// <summary>One signal to append. <paramref name="BuildJson"/> builds its stored form once the id and seq are known.</summary>
public sealed record NewSignal(string Source, string ExternalId, string Symbol, Tier MinTier, Func<string, long, string> BuildJson);

/// <summary>The result of an append: the stored signal, and whether (source, external_id) was already there.</summary>
public sealed record AppendResult(StoredSignal Signal, bool Duplicate);

/// <summary>
/// Oldest and newest seq in history (oldest is last + 1 when empty), and the history's identity: an
/// opaque epoch created with the history and kept with it. A seq means something only within its epoch.
/// </summary>
public readonly record struct HistoryBounds(long OldestSeq, long LastSeq, string Epoch);

/// <summary>
/// The signal history. Guarantees every implementation keeps (tests/SignalStream.Server.Tests/Storage
/// holds each to them):
/// <list type="bullet">
/// <item>An append returns only after every signal of its batch is durably committed, in one transaction.</item>
/// <item>Appends are idempotent by (source, external_id): a repeat, in history or earlier in the same batch,
///   returns the first signal and stores nothing.</item>
/// <item>seq grows by one with every stored signal, in batch order; a reader never sees seq N+k committed
///   without N before it (appends are serialized, so commit order is seq order).</item>
/// <item>History keeps at least the newest <c>HistoryLimit</c> signals.</item>
/// <item>A history has one epoch, created with it (a new database) and kept with it: every node, and
///   every start, reads the same one.</item>
/// </list>
/// Any storage failure surfaces as an exception; nothing is half-stored.
/// </summary>
public interface ISignalStore
{
    Task InitializeAsync(CancellationToken ct);

    /// <summary>Stores <paramref name="batch"/> in one transaction (one durable commit); one result per signal, in order.</summary>
    Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewSignal> batch, CancellationToken ct);

    /// <summary>Signals with seq greater than <paramref name="afterSeq"/> that <paramref name="tier"/> may see, oldest first.</summary>
    Task<IReadOnlyList<StoredSignal>> ReadAfterAsync(long afterSeq, Tier tier, int limit, bool premiumOnly, CancellationToken ct);

    /// <summary>The newest signals <paramref name="tier"/> may see, newest first.</summary>
    Task<IReadOnlyList<StoredSignal>> ReadLatestAsync(Tier tier, int limit, bool premiumOnly, CancellationToken ct);

    Task<HistoryBounds> GetBoundsAsync(CancellationToken ct);
}

/// <summary>A user as the store holds it. <see cref="Version"/> grows with every change, across all users.</summary>
public sealed record UserRecord(string Id, string Username, string PasswordHash, Tier Tier, bool Disabled, long Version);

/// <summary>
/// Users. Every create or update gives the row a version greater than any committed before it,
/// so <see cref="ReadChangesAsync"/> is a change feed that every node can follow.
/// </summary>
public interface IUserStore
{
    Task<UserRecord?> FindByIdAsync(string id, CancellationToken ct);
    Task<UserRecord?> FindByUsernameAsync(string username, CancellationToken ct);
    Task<IReadOnlyList<UserRecord>> FindByIdsAsync(IReadOnlyCollection<string> ids, CancellationToken ct);
    /// <summary>Null when the username is taken.</summary>
    Task<UserRecord?> CreateAsync(string username, string passwordHash, Tier tier, CancellationToken ct);
    /// <summary>Null when no such user.</summary>
    Task<UserRecord?> UpdateAsync(string id, Tier? tier, string? passwordHash, bool? disabled, CancellationToken ct);
    Task<IReadOnlyList<UserRecord>> ListAsync(CancellationToken ct);
    Task<IReadOnlyList<UserRecord>> ReadChangesAsync(long afterVersion, CancellationToken ct);
    Task<long> GetVersionAsync(CancellationToken ct);
}

/// <summary>Answers readiness: is the store reachable right now?</summary>
public interface IStorageHealth
{
    Task<bool> IsHealthyAsync(CancellationToken ct);
}

internal static class Ids
{
    public static string New() => Guid.CreateVersion7().ToString("N");
}

// Row shapes for Dapper: settable properties let it convert each provider's column types
// (SQLite reports every integer as Int64, PostgreSQL uses smallint and boolean).
internal sealed class SignalRow
{
    public long Seq { get; set; }
    public string Id { get; set; } = "";
    public int MinTier { get; set; }
    public string Symbol { get; set; } = "";
    public string Json { get; set; } = "";
    /// <summary>Read only where duplicates are matched by (source, external_id).</summary>
    public string Source { get; set; } = "";
    public string ExternalId { get; set; } = "";
    public StoredSignal ToStored() => new(Seq, Id, (Tier)MinTier, Symbol, Json);
}

internal sealed class UserRow
{
    public string Id { get; set; } = "";
    public string Username { get; set; } = "";
    public string PasswordHash { get; set; } = "";
    public int Tier { get; set; }
    public bool Disabled { get; set; }
    public long Version { get; set; }
    public UserRecord ToRecord() => new(Id, Username, PasswordHash, (Tier)Tier, Disabled, Version);
}

internal static class RowExtensions
{
    public static IReadOnlyList<StoredSignal> ToStored(this IEnumerable<SignalRow> rows) => rows.Select(r => r.ToStored()).ToList();
    public static IReadOnlyList<UserRecord> ToRecords(this IEnumerable<UserRow> rows) => rows.Select(r => r.ToRecord()).ToList();
}
