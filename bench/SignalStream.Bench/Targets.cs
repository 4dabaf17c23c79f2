using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using HdrHistogram;
using SignalStream.Protocol;

namespace SignalStream.Bench;

/// <summary>Where the three servers are built, and the settings every run starts them with.</summary>
public sealed class BenchPaths(string repoRoot)
{
    public string RepoRoot { get; } = repoRoot;
    public const string AdminKey = "bench-admin-key-0123456789abcdef";
    public const string PublisherKey = "bench-publisher-key-0123456789abcdef";
    public const string SigningKey = "bench-signing-key-0123456789abcdef-0123456789abcdef";

    private readonly Dictionary<TargetKind, string> _snapshots = [];

    private string BuiltDll(TargetKind kind) => kind.Server() switch
    {
        TargetKind.SignalStream => Path.Combine(RepoRoot, "src/SignalStream.Server/bin/Release/net10.0/SignalStream.Server.dll"),
        TargetKind.Ceiling => Path.Combine(RepoRoot, "bench/Baselines/Ceiling/bin/Release/net10.0/Ceiling.dll"),
        _ => Path.Combine(RepoRoot, "bench/Baselines/SignalRServer/bin/Release/net10.0/SignalRServer.dll"),
    };

    /// <summary>The server build every run of this invocation uses: a copy taken at the start, so a rebuild meanwhile changes nothing.</summary>
    public string DllFor(TargetKind kind) => _snapshots.TryGetValue(kind.Server(), out var dll) ? dll : BuiltDll(kind);

    public void Snapshot(string workDirectory, IEnumerable<TargetKind> kinds)
    {
        foreach (var kind in kinds.Select(k => k.Server()).Distinct())
        {
            var built = BuiltDll(kind);
            if (!File.Exists(built)) throw new FileNotFoundException($"{kind} is not built (bench/run.sh builds Release first)", built);
            var from = Path.GetDirectoryName(built)!;
            var to = Path.Combine(workDirectory, $"bin-{kind}");
            foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(to, Path.GetRelativePath(from, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target, overwrite: true);
            }
            _snapshots[kind] = Path.Combine(to, Path.GetFileName(built));
        }
    }

    /// <summary>Identifies a build, for the cache of prepared users.</summary>
    public string BuildId(TargetKind kind) => File.GetLastWriteTimeUtc(BuiltDll(kind.Server())).Ticks.ToString(CultureInfo.InvariantCulture);

    public static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SignalStream.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}

/// <summary>CPU time (ms, user+system) and resident memory (KB) of a process, from /proc.</summary>
public readonly record struct ProcSample(double CpuMs, long RssKb)
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    public static ProcSample Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // after "pid (comm) ": state is [0]; utime is field 14 overall, so [11]; stime [12]
            var cpu = (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 1000 / TicksPerSecond;
            long rss = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                rss = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                break;
            }
            return new ProcSample(cpu, rss);
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
        {
            return default;
        }
    }
}

/// <summary>A server under test, run as a child process on its own port and data folder.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private ServerProcess(Process process, int port, string dataDirectory, StreamWriter log)
    {
        _process = process;
        Port = port;
        DataDirectory = dataDirectory;
        _log = log;
    }

    public int Port { get; }
    public int Pid => _process.Id;
    public string DataDirectory { get; }
    public Uri BaseUri => new($"http://127.0.0.1:{Port}");
    public bool HasExited => _process.HasExited;

    public ProcSample Sample() => ProcSample.Read(Pid);

    /// <summary>Extra environment for every server (<c>--server-env KEY=VALUE,...</c>), for experiments such as DOTNET_gcServer=0.</summary>
    public static Dictionary<string, string> ExtraEnvironment { get; } = [];

    /// <summary>Starts <paramref name="kind"/>'s server with the common settings and then <paramref name="settings"/> (storage, tracing).</summary>
    public static async Task<ServerProcess> StartAsync(BenchPaths paths, TargetKind kind, string dataDirectory, string logFile, IEnumerable<string> settings, int port = 0, bool perfMap = false)
    {
        if (port == 0) port = FreePort();
        var dll = paths.DllFor(kind);
        if (!File.Exists(dll)) throw new FileNotFoundException($"{kind} is not built (run bench/run.sh, which builds Release first)", dll);
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataDirectory,
        };
        info.ArgumentList.Add(dll);
        foreach (var (key, value) in ExtraEnvironment) info.Environment[key] = value;
        if (perfMap)
        {
            info.Environment["DOTNET_PerfMapEnabled"] = "1"; // JIT symbols for perf
            info.Environment["DOTNET_EnableWriteXorExecute"] = "0"; // else JIT code sits in a memfd mapping perf cannot name
        }
        foreach (var a in new[]
        {
            $"--urls=http://127.0.0.1:{port}",
            $"--Data:Directory={dataDirectory}",
            $"--Auth:AdminApiKey={BenchPaths.AdminKey}",
            $"--Auth:PublisherApiKey={BenchPaths.PublisherKey}",
            $"--Auth:SigningKey={BenchPaths.SigningKey}",
            "--Limits:ConnectionsPerUser=100000",
            "--Limits:IngestPerSecond=100000",
            "--Auth:TokenLifetime=02:00:00",
            "--Logging:LogLevel:Default=Warning",
        }) info.ArgumentList.Add(a);
        foreach (var a in settings) info.ArgumentList.Add(a);
        var log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        var process = Process.Start(info) ?? throw new InvalidOperationException($"{kind} did not start");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, port, dataDirectory, log);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (process.HasExited) throw new InvalidOperationException($"{kind} exited at start (code {process.ExitCode}); see {logFile}");
            try
            {
                using var response = await http.GetAsync(new Uri(server.BaseUri, "/healthz"));
                if (response.IsSuccessStatusCode) return server;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(100);
        }
        await server.DisposeAsync();
        throw new TimeoutException($"{kind} did not answer /healthz within 90 s; see {logFile}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    /// <summary>SIGTERM (graceful: SignalStream closes every socket with 1001), SIGKILL after 15 s.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = kill(_process.Id, 15);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try { await _process.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); await _process.WaitForExitAsync(); }
        }
        _process.Dispose();
        lock (_log) _log.Dispose();
    }
}

/// <summary>The target's HTTP API as the generator uses it: users and tokens once, then ingest.</summary>
public sealed class TargetApi : IDisposable
{
    private readonly HttpClient _http;

    public TargetApi(TargetKind kind, Uri baseUri)
    {
        Kind = kind;
        _http = new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(30),
            MaxConnectionsPerServer = 64,
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        })
        { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
    }

    public TargetKind Kind { get; }

    /// <summary>Creates <paramref name="count"/> users, tiers round-robin, and fetches each one's token once.</summary>
    public async Task<BenchUser[]> CreateUsersAsync(int count)
    {
        if (Kind.Server() == TargetKind.Ceiling) return [];
        var users = new BenchUser[count];
        var next = -1;
        async Task Lane()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var tier = (Tier)(i % 3);
                var name = $"bench-user-{i}";
                const string password = "bench-password-123";
                using (var request = new HttpRequestMessage(HttpMethod.Post, Paths.AdminUsers)
                {
                    Content = JsonContent.Create(new CreateUserRequest(name, password, tier.ToWire()), ProtocolJson.Default.CreateUserRequest),
                })
                {
                    request.Headers.Add("X-API-Key", BenchPaths.AdminKey);
                    using var created = await _http.SendAsync(request);
                    if (created.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.Conflict))
                        throw new InvalidOperationException($"create user: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
                }
                using var tokenResponse = await _http.PostAsJsonAsync(Paths.Token, new TokenRequest(name, password), ProtocolJson.Default.TokenRequest);
                tokenResponse.EnsureSuccessStatusCode();
                var token = (await tokenResponse.Content.ReadFromJsonAsync(ProtocolJson.Default.TokenResponse))!;
                users[i] = new BenchUser(token.AccessToken, (int)token.Tier);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(Lane)));
        return users;
    }

    private static readonly string[] TierNames = ["STARTER", "PROFESSIONAL", "INSTITUTIONAL"];

    /// <summary>One signal k, timed from just before its body is written: answers (ok, POST round trip in µs).</summary>
    public async Task<(bool Ok, long Micros)> PublishAsync(long k)
    {
        var started = Stopwatch.GetTimestamp();
        var tier = Swarm.TierOf(k);
        var body = new StringBuilder(420)
            .Append("{\"external_id\":\"bench-").Append(k).Append('-').Append(started)
            .Append("\",\"source\":\"bench\",\"symbol\":\"").Append(k % 2 == 0 ? "BTC-USD" : "ETH-USD")
            .Append("\",\"side\":\"").Append(k % 2 == 0 ? "BUY" : "SELL")
            .Append(k % 2 == 0 // prices on the right side of the entry for each side (PriceRule)
                ? "\",\"entry_price\":65000.5,\"stop_loss\":64000,\"take_profit\":68000"
                : "\",\"entry_price\":65000.5,\"stop_loss\":66000,\"take_profit\":62000")
            .Append(",\"confidence\":0.82,\"timeframe\":\"1h\",\"premium\":")
            .Append(tier > 0 ? "true" : "false")
            .Append(",\"min_tier\":\"").Append(TierNames[tier])
            .Append("\",\"notes\":\"load test signal\",\"generated_at\":\"")
            .Append(DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)).Append("\"}")
            .ToString();
        using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Ingest) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-API-Key", BenchPaths.PublisherKey);
        if (Kind.Traced()) // a new trace, sampled: the server records and exports this signal's spans
            request.Headers.Add("traceparent", $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        try
        {
            using var response = await _http.SendAsync(request);
            return (response.StatusCode == HttpStatusCode.Created, (Stopwatch.GetTimestamp() - started) * 1_000_000 / Stopwatch.Frequency);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (false, 0);
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>Publishes at a fixed rate, open loop: a slow answer never delays the next POST (no coordinated omission).</summary>
public sealed class Publisher(TargetApi api)
{
    private long _next = 1;
    public long NextK => Interlocked.Read(ref _next);
    public long Published;

    public async Task<PublishReport> PublishAsync(int count, double perSecond, CancellationToken ct = default)
    {
        var k0 = NextK;
        var started = Stopwatch.GetTimestamp();
        var tasks = new List<Task<(bool Ok, long Micros)>>(count);
        var posts = Swarm.NewHistogram();
        for (var i = 0; i < count && !ct.IsCancellationRequested; i++)
        {
            var due = started + (long)(i / perSecond * Stopwatch.Frequency);
            while (true)
            {
                var wait = (due - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency;
                if (wait <= 0) break;
                await Task.Delay((int)Math.Max(1, wait - 1), CancellationToken.None);
            }
            var k = Interlocked.Increment(ref _next) - 1;
            tasks.Add(Task.Run(() => api.PublishAsync(k), CancellationToken.None));
            Interlocked.Increment(ref Published);
        }
        var results = await Task.WhenAll(tasks);
        var failed = new HashSet<long>();
        for (var i = 0; i < results.Length; i++)
        {
            if (!results[i].Ok) failed.Add(k0 + i);
            else posts.RecordValue(Math.Max(1, results[i].Micros));
        }
        return new PublishReport(k0, k0 + results.Length, failed, Stopwatch.GetElapsedTime(started).TotalSeconds, posts);
    }

    /// <summary>
    /// Closed loop: <paramref name="publishers"/> lanes each POST one signal, await the answer and POST the next, for
    /// <paramref name="seconds"/>, at most <paramref name="max"/> signals in all. Measures how fast the server stores.
    /// </summary>
    public async Task<PublishReport> PublishFlatOutAsync(int publishers, double seconds, int max)
    {
        var k0 = NextK;
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(seconds * Stopwatch.Frequency);
        var failed = new ConcurrentDictionary<long, bool>();
        var posts = Swarm.NewHistogram();
        async Task Lane()
        {
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var k = Interlocked.Increment(ref _next) - 1;
                if (k - k0 >= max) return; // the window's bitmaps hold max signals
                Interlocked.Increment(ref Published);
                var (ok, micros) = await api.PublishAsync(k);
                if (ok) posts.RecordValue(Math.Max(1, micros));
                else failed[k] = true;
            }
        }
        await Task.WhenAll(Enumerable.Range(0, publishers).Select(_ => Task.Run(Lane)));
        return new PublishReport(k0, Math.Min(NextK, k0 + max), [.. failed.Keys], Stopwatch.GetElapsedTime(started).TotalSeconds, posts);
    }
}

public sealed record PublishReport(long K0, long KEnd, HashSet<long> Failed, double Seconds, LongConcurrentHistogram PostLatency);
