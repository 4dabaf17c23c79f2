using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using HdrHistogram;

namespace SignalStream.Bench;

/// <summary>Where SignalStream stores: SQLite in its data folder, or a PostgreSQL database. The baselines always use SQLite.</summary>
public sealed record Storage(string Label, string? PostgresConnection)
{
    public static readonly Storage Sqlite = new("SQLite", null);

    public static Storage Postgres(string connection) => new("PostgreSQL", connection);

    public IEnumerable<string> Settings => PostgresConnection is null ? [] : ["--Storage:Provider=postgres", $"--Storage:ConnectionString={PostgresConnection}"];
}

/// <summary>Shared state of one invocation: where things are, and one prepared data folder per target (users already created).</summary>
public sealed class BenchHost(BenchPaths paths, string workDirectory, int userCount, Action<string> status) : IAsyncDisposable
{
    /// <summary>When set, the measured window of each fan-out is profiled (perf, dotnet-counters) into this folder.</summary>
    public string? ProfileDirectory { get; set; }

    /// <summary>Where SignalStream stores unless a scenario says otherwise: SQLite, or PostgreSQL with <c>--postgres CONNECTION</c>.</summary>
    public Storage Storage { get; set; } = Storage.Sqlite;

    /// <summary>Seconds of publishing at the scenario's rate before a fan-out's window, not measured (<c>--warmup</c>).</summary>
    public int WarmUpSeconds { get; set; } = 10;

    private readonly Dictionary<(TargetKind, Storage), (string Template, string UsersFile)> _templates = [];
    private OtlpSink? _otlp;

    public BenchPaths Paths { get; } = paths;
    public string WorkDirectory { get; } = workDirectory;
    public int UserCount { get; } = userCount;
    public Action<string> Status { get; } = status;
    private int _runs;

    /// <summary>The OTLP/HTTP sink the traced target exports to, started on first use and shared by every run.</summary>
    public async Task<OtlpSink> OtlpAsync() => _otlp ??= await OtlpSink.StartAsync();

    /// <summary>
    /// Creates the users once per server and storage (password hashing is slow by design) and keeps the data
    /// folder as a template. With SQLite the users live in that folder, so it is cached across invocations for an
    /// hour while the server build is unchanged (the tokens in it live two hours); a PostgreSQL database may be new
    /// (run.sh starts one per run), so there the users are created (or found) once per invocation.
    /// </summary>
    public async Task<(string DataDirectory, string UsersFile)> FreshDataAsync(TargetKind kind, Storage storage)
    {
        kind = kind.Server();
        if (kind != TargetKind.SignalStream) storage = Storage.Sqlite;
        if (!_templates.TryGetValue((kind, storage), out var template))
        {
            var cache = storage.PostgresConnection is null
                ? Path.Combine(Path.GetTempPath(), "signalstream-bench-cache", $"{kind}-{UserCount}-{Paths.BuildId(kind)}")
                : Path.Combine(WorkDirectory, $"template-{kind}-{storage.Label}");
            var dir = Path.Combine(cache, "data");
            var usersFile = Path.Combine(cache, "users.json");
            var fresh = File.Exists(usersFile) && DateTime.UtcNow - File.GetLastWriteTimeUtc(usersFile) < TimeSpan.FromHours(1);
            if (!fresh)
            {
                if (Directory.Exists(cache)) Directory.Delete(cache, recursive: true);
                Directory.CreateDirectory(dir);
                Status($"{kind}: creating {UserCount} users and their tokens ({storage.Label})");
                await using (var server = await ServerProcess.StartAsync(Paths, kind, dir, Path.Combine(WorkDirectory, $"{kind}-template.log"), storage.Settings))
                {
                    using var api = new TargetApi(kind, server.BaseUri);
                    var users = await api.CreateUsersAsync(UserCount);
                    await File.WriteAllTextAsync(usersFile + ".tmp", JsonSerializer.Serialize(users));
                }
                File.Move(usersFile + ".tmp", usersFile);
            }
            _templates[(kind, storage)] = template = (dir, usersFile);
        }
        var run = Path.Combine(WorkDirectory, $"run-{Interlocked.Increment(ref _runs)}-{kind}");
        Directory.CreateDirectory(run);
        foreach (var file in Directory.GetFiles(template.Template)) File.Copy(file, Path.Combine(run, Path.GetFileName(file)));
        return (run, template.UsersFile);
    }

    public async ValueTask DisposeAsync()
    {
        if (_otlp is not null) await _otlp.DisposeAsync();
    }
}

/// <summary>One server under test with its generator workers, for one scenario run.</summary>
public sealed class RunContext : IAsyncDisposable
{
    public const int ClientsPerWorker = 9_500;
    public const int SingleWorkerLimit = 15_000;

    private int _nextIndex;

    private RunContext(TargetKind kind, ServerProcess server, TargetApi api, List<WorkerHandle> workers)
    {
        Kind = kind;
        Server = server;
        Api = api;
        Workers = workers;
        Publisher = new Publisher(api);
    }

    public TargetKind Kind { get; }
    public ServerProcess Server { get; }
    public TargetApi Api { get; }
    public Publisher Publisher { get; }
    public List<WorkerHandle> Workers { get; }
    public int Clients => _nextIndex;

    public long Welcomed => Workers.Sum(w => Interlocked.Read(ref w.Welcomed));
    public long Valid => Workers.Sum(w => Interlocked.Read(ref w.Valid));

    /// <summary>Starts <paramref name="kind"/>'s server (SignalStream storing in <paramref name="storage"/>, else the host's) and its workers.</summary>
    public static async Task<RunContext> StartAsync(BenchHost host, TargetKind kind, int maxClients, Storage? storage = null)
    {
        storage ??= host.Storage;
        var (data, usersFile) = await host.FreshDataAsync(kind, storage);
        List<string> settings = kind.Server() == TargetKind.SignalStream ? [.. storage.Settings] : [];
        if (kind.Traced()) settings.Add($"--Observability:Otlp:Endpoint={(await host.OtlpAsync()).Endpoint}");
        var server = await ServerProcess.StartAsync(host.Paths, kind, data, Path.Combine(data, "server.log"), settings, perfMap: host.ProfileDirectory is not null);
        var count = maxClients <= SingleWorkerLimit ? 1 : (maxClients + ClientsPerWorker - 1) / ClientsPerWorker;
        var workers = Enumerable.Range(0, count).Select(_ => WorkerHandle.Start(kind.Server(), server.Port, usersFile)).ToList();
        return new RunContext(kind, server, new TargetApi(kind, server.BaseUri), workers);
    }

    public ProcSample GeneratorSample()
    {
        var self = ProcSample.Read(Environment.ProcessId);
        foreach (var w in Workers)
        {
            var s = ProcSample.Read(w.Pid);
            self = new ProcSample(self.CpuMs + s.CpuMs, self.RssKb + s.RssKb);
        }
        return self;
    }

    /// <summary>Opens <paramref name="count"/> more clients, spread over the workers.</summary>
    public async Task<ConnectReport> ConnectAsync(int count, int slowEvery = 0, int concurrency = 64, int timeoutMs = 120_000)
    {
        var tasks = new List<Task<ConnectReport>>();
        var share = count / Workers.Count;
        for (var i = 0; i < Workers.Count; i++)
        {
            var n = i == Workers.Count - 1 ? count - share * (Workers.Count - 1) : share;
            tasks.Add(Workers[i].SendAsync<ConnectReport>(new JsonObject
            {
                ["cmd"] = "connect", ["first"] = _nextIndex, ["count"] = n, ["slowEvery"] = slowEvery,
                ["concurrency"] = Math.Max(1, concurrency / Workers.Count), ["timeoutMs"] = timeoutMs,
            }));
            _nextIndex += n;
        }
        var reports = await Task.WhenAll(tasks);
        var refusals = new Dictionary<string, int>();
        foreach (var r in reports) foreach (var (k, v) in r.Refusals) refusals[k] = refusals.GetValueOrDefault(k) + v;
        return new ConnectReport(reports.Sum(r => r.Connected), reports.Sum(r => r.Failed), reports.Max(r => r.Milliseconds), refusals);
    }

    /// <summary>
    /// Publishes <paramref name="signals"/> at <paramref name="rate"/>/s and collects every delivery.
    /// Server CPU is measured from the first POST to the last delivery.
    /// </summary>
    public Task<WindowResult> WindowAsync(int signals, double rate, TimeSpan drain, Func<Task<object?>>? during = null) =>
        WindowAsync(signals, () => Publisher.PublishAsync(signals, rate), drain, during);

    /// <summary>A window whose signals <paramref name="publish"/> sends (at most <paramref name="capacity"/>), with every delivery collected.</summary>
    public async Task<WindowResult> WindowAsync(int capacity, Func<Task<PublishReport>> publish, TimeSpan drain, Func<Task<object?>>? during = null)
    {
        var k0 = Publisher.NextK;
        await Task.WhenAll(Workers.Select(w => w.SendAsync<JsonNode>(new JsonObject { ["cmd"] = "begin", ["k0"] = k0, ["capacity"] = capacity })));
        var cpu0 = Server.Sample();
        var gen0 = GeneratorSample();
        var wall = Stopwatch.StartNew();
        var publishing = publish();
        object? duringResult = null;
        if (during is not null) duringResult = await during();
        var published = await publishing;
        var failed = new JsonArray(published.Failed.Select(k => (JsonNode)k).ToArray());
        var ends = await Task.WhenAll(Workers.Select(w => w.SendAsync<WindowReport>(new JsonObject
        {
            ["cmd"] = "end", ["kEnd"] = published.KEnd, ["failed"] = failed.DeepClone(), ["drainMs"] = (int)drain.TotalMilliseconds,
        })));
        var cpu1 = Server.Sample();
        var gen1 = GeneratorSample();
        var latency = Swarm.NewHistogram();
        foreach (var e in ends) foreach (var b in e.Buckets) latency.RecordValueWithCount(b[0], b[1]);
        return new WindowResult(
            Signals: (int)(published.KEnd - published.K0),
            Failed: published.Failed.Count,
            Expected: ends.Sum(e => e.Expected),
            Delivered: ends.Sum(e => e.Valid),
            Missing: ends.Sum(e => e.Missing),
            Duplicates: ends.Sum(e => e.Duplicates),
            Forbidden: ends.Sum(e => e.Forbidden),
            OutOfOrder: ends.Sum(e => e.OutOfOrder),
            Stray: ends.Sum(e => e.Stray),
            ClosedClients: ends.Sum(e => e.ClosedClients),
            ServerCpuMs: cpu1.CpuMs - cpu0.CpuMs,
            GeneratorCpuMs: gen1.CpuMs - gen0.CpuMs,
            WallSeconds: wall.Elapsed.TotalSeconds,
            Latency: latency,
            PostLatency: published.PostLatency,
            PublishSeconds: published.Seconds,
            During: duringResult);
    }

    public async Task<StormReport[]> StormAsync(int concurrency, int timeoutMs) =>
        await Task.WhenAll(Workers.Select(w => w.SendAsync<StormReport>(new JsonObject
        {
            ["cmd"] = "storm", ["concurrency"] = Math.Max(1, concurrency / Workers.Count), ["timeoutMs"] = timeoutMs,
        })));

    public async ValueTask DisposeAsync()
    {
        foreach (var w in Workers)
        {
            try { await w.SendAsync<JsonNode>(new JsonObject { ["cmd"] = "close" }).WaitAsync(TimeSpan.FromSeconds(30)); }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException or IOException) { }
            await w.DisposeAsync();
        }
        Api.Dispose();
        await Server.DisposeAsync();
        try { Directory.Delete(Server.DataDirectory, recursive: true); }
        catch (IOException) { }
    }
}

public sealed record WindowResult(
    int Signals, int Failed, long Expected, long Delivered, long Missing, long Duplicates, long Forbidden, long OutOfOrder, long Stray,
    long ClosedClients, double ServerCpuMs, double GeneratorCpuMs, double WallSeconds, LongConcurrentHistogram Latency,
    LongConcurrentHistogram PostLatency, double PublishSeconds, object? During)
{
    public bool Correct => Missing == 0 && Duplicates == 0 && Forbidden == 0 && OutOfOrder == 0 && Failed == 0;
    public double Ms(double percentile) => Latency.TotalCount == 0 ? double.NaN : Latency.GetValueAtPercentile(percentile) / 1000.0;
    public double MaxMs => Latency.TotalCount == 0 ? double.NaN : Latency.GetMaxValue() / 1000.0;
}
