using Npgsql;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>A PostgreSQL instance of the tests' own, run as the <c>postgres</c> user the way scripts/services.sh does.</summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _bin;

    private PostgresServer(string directory, string bin, int port)
    {
        _directory = directory;
        _bin = bin;
        Port = port;
    }

    public int Port { get; }
    public bool IsRunning { get; private set; }
    public string ConnectionString => Postgres.WithTestTimeouts($"Host=127.0.0.1;Port={Port};Username=postgres;Database=signalstream");

    public static async Task<PostgresServer> CreateAsync(string directory)
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").OrderBy(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0).Last() + "/bin";
        var server = new PostgresServer(directory, bin, ChildProcess.FreePort());
        if (IsRoot) await ChildProcess.RunAsync("install", "-d", "-o", "postgres", "-g", "postgres", directory);
        else Directory.CreateDirectory(directory);
        await server.AsPostgresAsync($"{bin}/initdb -D {directory}/data -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync");
        await server.StartAsync();
        await using var connection = new NpgsqlConnection(Postgres.WithTestTimeouts($"Host=127.0.0.1;Port={server.Port};Username=postgres;Database=postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("CREATE DATABASE signalstream", connection);
        await command.ExecuteNonQueryAsync();
        return server;
    }

    public async Task StartAsync()
    {
        await AsPostgresAsync($"{_bin}/pg_ctl -D {_directory}/data -l {_directory}/pg.log -w -t 60 " +
            $"-o '-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off' start");
        IsRunning = true;
    }

    /// <summary>A fast shutdown: open sessions are ended, the server stops accepting connections.</summary>
    public async Task StopAsync(string mode = "fast")
    {
        IsRunning = false;
        await AsPostgresAsync($"{_bin}/pg_ctl -D {_directory}/data -m {mode} -w -t 60 stop");
    }

    public async ValueTask DisposeAsync()
    {
        if (!IsRunning) return;
        try { await StopAsync("immediate"); }
        catch (InvalidOperationException) { }
    }

    private static bool IsRoot => Environment.UserName == "root";

    private Task AsPostgresAsync(string command) =>
        IsRoot ? ChildProcess.RunAsync("su", "postgres", "-c", command) : ChildProcess.RunAsync("sh", "-c", command);
}
