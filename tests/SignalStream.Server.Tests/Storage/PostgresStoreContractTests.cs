using Microsoft.Extensions.Options;
using SignalStream.Server.Storage;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Storage;

public sealed class PostgresStoreContractTests : StoreContractTests
{
    private string _connectionString = "";
    private readonly List<PostgresDatabase> _databases = [];

    public override async Task InitializeAsync()
    {
        _connectionString = await Postgres.CreateDatabaseAsync();
        await base.InitializeAsync();
    }

    protected override Task<(ISignalStore, IUserStore)> OpenAsync()
    {
        var db = Open(_connectionString);
        return Task.FromResult<(ISignalStore, IUserStore)>((new PostgresSignalStore(db), new PostgresUserStore(db)));
    }

    protected override async Task<ISignalStore> OpenNewDatabaseAsync() => new PostgresSignalStore(Open(await Postgres.CreateDatabaseAsync()));

    private PostgresDatabase Open(string connectionString)
    {
        var db = new PostgresDatabase(Options.Create(new StorageOptions { Provider = "postgres", ConnectionString = connectionString, HistoryLimit = HistoryLimit }));
        _databases.Add(db);
        return db;
    }

    public override async Task DisposeAsync()
    {
        foreach (var db in _databases) await db.DisposeAsync();
    }
}
