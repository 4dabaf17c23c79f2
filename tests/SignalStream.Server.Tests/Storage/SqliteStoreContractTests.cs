using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Tests.Storage;

public sealed class SqliteStoreContractTests : StoreContractTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "signalstream-tests", Guid.NewGuid().ToString("N"));
    private SqliteDatabase? _db;

    protected override Task<(ISignalStore, IUserStore)> OpenAsync()
    {
        _db = Open(_directory);
        return Task.FromResult<(ISignalStore, IUserStore)>((new SqliteSignalStore(_db), new SqliteUserStore(_db, new FakeTimeProvider())));
    }

    protected override Task<ISignalStore> OpenNewDatabaseAsync() =>
        Task.FromResult<ISignalStore>(new SqliteSignalStore(Open(Path.Combine(_directory, "reset"))));

    private static SqliteDatabase Open(string directory) =>
        new(Options.Create(new StorageOptions { HistoryLimit = HistoryLimit }), Options.Create(new DataOptions { Directory = directory }));

    [Fact]
    public async Task EveryConnection_CommitsDurably_InWalMode()
    {
        await using var connection = await _db!.OpenAsync(default);
        Assert.Equal(2L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "PRAGMA synchronous;")); // FULL
        Assert.Equal("wal", await Dapper.SqlMapper.ExecuteScalarAsync<string>(connection, "PRAGMA journal_mode;"));
    }

    public override Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}
