using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using SignalStream.Protocol;

namespace SignalStream.ScaleOut;

/// <summary>
/// Scale-out measurements against a cluster started by <c>deploy/cluster.sh</c>:
/// <list type="bullet">
/// <item><c>connections</c>: how many idle, authenticated WebSocket connections the nodes hold, opened
///   directly on each node's port by worker processes (one process holds at most ~19 500 sockets here).</item>
/// <item><c>latency</c>: delivery latency (POST start to client receipt, one clock) for clients on the
///   ingesting node, clients on the other nodes, and clients of a standalone node, in one run.</item>
/// <item><c>hold</c>: the worker the <c>connections</c> command starts.</item>
/// </list>
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0) return Usage();
        var options = new Options(args.Skip(1));
        return args[0] switch
        {
            "connections" => await Connections.RunAsync(options),
            "latency" => await Latency.RunAsync(options),
            "hold" => await Holder.RunAsync(options),
            _ => Usage(),
        };
    }

    private static int Usage()
    {
        Console.Error.WriteLine("""
            usage: ScaleOut connections [--per-node 15000] [--workers-per-node 1] [--concurrency 64] [--hold 30]
                   ScaleOut latency [--clients 300] [--signals 400] [--rate 20] [--rounds 2] [--single-port 9200]
            common: [--cluster-dir /tmp/signalstream-cluster] [--nodes N] [--node-base-port 9100]
            """);
        return 2;
    }
}

/// <summary><c>--name value</c> pairs.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public Options(IEnumerable<string> args)
    {
        string? name = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal)) { name = arg[2..]; _values[name] = "true"; }
            else if (name is not null) { _values[name] = arg; name = null; }
        }
    }

    public string Get(string name, string fallback) => _values.TryGetValue(name, out var value) ? value : fallback;
    public int GetInt(string name, int fallback) => _values.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
}

/// <summary>What deploy/cluster.sh left in its folder: the shared settings and each node's pid.</summary>
internal sealed class Cluster
{
    public Cluster(Options options)
    {
        Directory = options.Get("cluster-dir", "/tmp/signalstream-cluster");
        var envFile = Path.Combine(Directory, "cluster.env");
        if (!File.Exists(envFile)) throw new InvalidOperationException($"{envFile} not found: start the cluster with deploy/cluster.sh start");
        foreach (var line in File.ReadAllLines(envFile))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (line.StartsWith('#') || equals < 0) continue;
            Env[line[..equals]] = line[(equals + 1)..].Trim('\'');
        }
        BasePort = options.GetInt("node-base-port", 9100);
        Nodes = options.GetInt("nodes", System.IO.Directory.GetFiles(Directory, "node*.pid").Length);
        if (Nodes == 0) throw new InvalidOperationException($"no node is running under {Directory}");
    }

    public string Directory { get; }
    public Dictionary<string, string> Env { get; } = new(StringComparer.Ordinal);
    public int BasePort { get; }
    public int Nodes { get; }
    public string AdminKey => Env["Auth__AdminApiKey"];
    public string PublisherKey => Env["Auth__PublisherApiKey"];

    public Uri NodeUri(int node) => new($"http://127.0.0.1:{BasePort + node}");
    public Uri NodeWebSocket(int node) => new($"ws://127.0.0.1:{BasePort + node}{Paths.Stream}");

    public int? NodePid(int node)
    {
        var file = Path.Combine(Directory, $"node{node}.pid");
        return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), out var pid) ? pid : null;
    }

    /// <summary>Throws unless every node answers <c>/readyz</c> 200 (storage and backplane reachable).</summary>
    public async Task AssertReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        for (var node = 1; node <= Nodes; node++)
        {
            using var response = await http.GetAsync(new Uri(NodeUri(node), "/readyz"));
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"node{node} is not ready: {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>Resident memory of a process, from /proc (0 when gone).</summary>
    public static long RssMegabytes(int? pid)
    {
        if (pid is null || !File.Exists($"/proc/{pid}/status")) return 0;
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }
}

/// <summary>The HTTP calls the measurements need.</summary>
internal static class Api
{
    public const string Password = "scale-out-bench-password";

    /// <summary>Creates a user through the admin API and logs in; answers the access token.</summary>
    public static async Task<string> CreateUserAsync(HttpClient http, string adminKey, string username, Tier tier)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Paths.AdminUsers) { Content = JsonContent.Create(new { username, password = Password, tier = tier.ToWire() }) };
            request.Headers.Add("X-API-Key", adminKey);
            using var response = await http.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.Created) break;
            // A loaded machine can make the first database connections slow (503, Retry-After); try again.
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || attempt == 5)
                throw new InvalidOperationException($"creating {username}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
        for (var attempt = 1; ; attempt++)
        {
            using var login = await http.PostAsJsonAsync(Paths.Token, new { username, password = Password });
            if (login.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 5)
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                continue;
            }
            login.EnsureSuccessStatusCode();
            return (await login.Content.ReadFromJsonAsync(ProtocolJson.Default.TokenResponse))!.AccessToken;
        }
    }

    /// <summary>Posts one STARTER signal; answers its seq.</summary>
    public static async Task<long> PublishAsync(HttpClient http, string publisherKey, string externalId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Ingest)
        {
            Content = JsonContent.Create(new { external_id = externalId, source = "scaleout-bench", symbol = "BTC-USD", side = "BUY", entry_price = 65000.5, confidence = 0.8 }),
        };
        request.Headers.Add("X-API-Key", publisherKey);
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"ingest answered {(int)response.StatusCode}");
        return (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.IngestResponse))!.Seq;
    }

    public static async Task<StatsResponse?> StatsAsync(HttpClient http, string adminKey)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Paths.Stats);
            request.Headers.Add("X-API-Key", adminKey);
            using var response = await http.SendAsync(request);
            return await response.Content.ReadFromJsonAsync(ProtocolJson.Default.StatsResponse);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// <c>connections</c>: one worker process per node (or several) opens <c>--per-node</c> idle
/// authenticated sockets on that node's own port, then everything is held for <c>--hold</c>
/// seconds, longer than the heartbeat, so the count that is reported is of live connections.
/// </summary>
internal static class Connections
{
    public static async Task<int> RunAsync(Options options)
    {
        var cluster = new Cluster(options);
        var perNode = options.GetInt("per-node", 15_000);
        var workersPerNode = options.GetInt("workers-per-node", 1);
        var concurrency = options.GetInt("concurrency", 64);
        var holdSeconds = options.GetInt("hold", 30);
        using var http = new HttpClient { BaseAddress = cluster.NodeUri(1), Timeout = TimeSpan.FromSeconds(30) };
        await cluster.AssertReadyAsync();
        var token = await Api.CreateUserAsync(http, cluster.AdminKey, $"bench-conn-{Guid.NewGuid().ToString("N")[..8]}", Tier.Institutional);

        var workers = new List<Worker>();
        for (var node = 1; node <= cluster.Nodes; node++)
        {
            for (var w = 0; w < workersPerNode; w++)
                workers.Add(Worker.Start(node, cluster.NodeWebSocket(node), perNode / workersPerNode, concurrency, token));
        }
        Console.WriteLine($"opening {perNode} connections on each of {cluster.Nodes} nodes with {workers.Count} worker processes ({concurrency} at a time each)");

        var clock = Stopwatch.StartNew();
        TimeSpan? allOpenedAt = null;
        var minimumWhileHeld = int.MaxValue;
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            var stats = await Api.StatsAsync(http, cluster.AdminKey);
            var open = workers.Sum(w => w.Open);
            Console.WriteLine($"{clock.Elapsed.TotalSeconds,5:0}s  client side open {open,6}  failed {workers.Sum(w => w.Failed),5}  closed {workers.Sum(w => w.Closed),5}  " +
                $"server side {stats?.TotalConnections.ToString(CultureInfo.InvariantCulture) ?? "?",6}  " +
                string.Join("  ", Enumerable.Range(1, cluster.Nodes).Select(n => $"node{n} {workers.Where(w => w.Node == n).Sum(w => w.Open)} ({Cluster.RssMegabytes(cluster.NodePid(n))} MB)")));
            if (allOpenedAt is null && workers.All(w => w.Done))
            {
                allOpenedAt = clock.Elapsed;
                Console.WriteLine($"all attempted after {allOpenedAt.Value.TotalSeconds:0} s; holding for {holdSeconds} s");
            }
            if (allOpenedAt is { } at)
            {
                minimumWhileHeld = Math.Min(minimumWhileHeld, open);
                if (clock.Elapsed - at >= TimeSpan.FromSeconds(holdSeconds)) break;
            }
            if (workers.Any(w => w.Exited)) throw new InvalidOperationException("a worker died: " + string.Join("; ", workers.Where(w => w.Exited).Select(w => w.Error)));
        }

        var final = await Api.StatsAsync(http, cluster.AdminKey);
        Console.WriteLine();
        Console.WriteLine($"| node | held (client side) | held (node's own /ws/stats entry) | refused or failed | node RSS |");
        Console.WriteLine($"| --- | --- | --- | --- | --- |");
        for (var n = 1; n <= cluster.Nodes; n++)
        {
            var mine = workers.Where(w => w.Node == n).ToList();
            var reported = final?.Nodes?.FirstOrDefault(s => s.NodeId == $"node{n}")?.TotalConnections;
            var reasons = string.Join(", ", mine.SelectMany(w => w.Reasons).GroupBy(r => r.Key).Select(g => $"{g.Key} x{g.Sum(r => r.Value)}"));
            Console.WriteLine($"| node{n} | {mine.Sum(w => w.Open)} | {reported?.ToString(CultureInfo.InvariantCulture) ?? "?"} | {mine.Sum(w => w.Failed)}{(reasons.Length > 0 ? $" ({reasons})" : "")} | {Cluster.RssMegabytes(cluster.NodePid(n))} MB |");
        }
        Console.WriteLine($"| total | {workers.Sum(w => w.Open)} | {final?.TotalConnections.ToString(CultureInfo.InvariantCulture) ?? "?"} (deployment) | {workers.Sum(w => w.Failed)} | |");
        Console.WriteLine();
        Console.WriteLine($"opened in {allOpenedAt?.TotalSeconds:0} s; lowest client-side count while held for {holdSeconds} s: {minimumWhileHeld}; worker RSS {string.Join(", ", workers.Select(w => $"{w.RssMegabytes} MB"))}");
        foreach (var worker in workers) worker.Dispose();
        return 0;
    }

    /// <summary>One <c>hold</c> process, reporting a JSON line a second.</summary>
    private sealed class Worker : IDisposable
    {
        private readonly Process _process;
        private Progress? _last;

        private Worker(int node, Process process)
        {
            Node = node;
            _process = process;
        }

        public int Node { get; }
        public int Open => _last?.Open ?? 0;
        public int Failed => _last?.Failed ?? 0;
        public int Closed => _last?.Closed ?? 0;
        public bool Done => _last?.Done ?? false;
        public bool Exited => _process.HasExited;
        public string Error { get; private set; } = "";
        public Dictionary<string, int> Reasons => _last?.Reasons ?? [];
        public long RssMegabytes => Cluster.RssMegabytes(_process.HasExited ? null : _process.Id);

        public static Worker Start(int node, Uri url, int count, int concurrency, string token)
        {
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true, // closing it tells the worker to stop
                UseShellExecute = false,
            };
            foreach (var argument in new[] { typeof(Program).Assembly.Location, "hold", "--url", url.ToString(), "--count", count.ToString(CultureInfo.InvariantCulture), "--concurrency", concurrency.ToString(CultureInfo.InvariantCulture) })
                info.ArgumentList.Add(argument);
            info.Environment["SCALEOUT_TOKEN"] = token; // not on the command line, where ps would show it
            var process = Process.Start(info)!;
            var worker = new Worker(node, process);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { Length: > 0 } line && line[0] == '{') worker._last = JsonSerializer.Deserialize(line, ProgressJson.Default.Progress);
            };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) worker.Error += e.Data + " "; };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return worker;
        }

        public void Dispose()
        {
            try { _process.StandardInput.Close(); }
            catch (IOException) { }
            if (!_process.WaitForExit(15_000)) _process.Kill();
            _process.Dispose();
        }
    }
}

internal sealed record Progress(int Open, int Failed, int Closed, bool Done, Dictionary<string, int> Reasons);

[System.Text.Json.Serialization.JsonSerializable(typeof(Progress))]
internal sealed partial class ProgressJson : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>
/// <c>hold</c>: opens <c>--count</c> authenticated sockets to one URL and keeps each one reading
/// (so protocol pings are answered) until standard input closes.
/// </summary>
internal static class Holder
{
    private static int s_open, s_failed, s_closed;
    private static readonly ConcurrentDictionary<string, int> Reasons = new(StringComparer.Ordinal);

    public static async Task<int> RunAsync(Options options)
    {
        var url = new Uri(options.Get("url", ""));
        var count = options.GetInt("count", 1000);
        var concurrency = options.GetInt("concurrency", 64);
        var token = Environment.GetEnvironmentVariable("SCALEOUT_TOKEN") ?? throw new InvalidOperationException("SCALEOUT_TOKEN is not set");
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(30) });
        var sockets = new ConcurrentBag<ClientWebSocket>();
        var done = false;

        _ = Task.Run(async () =>
        {
            await Console.In.ReadToEndAsync(); // the coordinator closed our input: stop
            Environment.Exit(0);
        });
        _ = Task.Run(async () =>
        {
            while (true)
            {
                Console.WriteLine(JsonSerializer.Serialize(new Progress(Volatile.Read(ref s_open), Volatile.Read(ref s_failed), Volatile.Read(ref s_closed), Volatile.Read(ref done), new(Reasons)), ProgressJson.Default.Progress));
                await Task.Delay(1000);
            }
        });

        using var gate = new SemaphoreSlim(concurrency);
        var attempts = new List<Task>(count);
        for (var i = 0; i < count; i++)
        {
            await gate.WaitAsync();
            attempts.Add(Task.Run(async () =>
            {
                try { await OpenAsync(url, token, invoker, sockets); }
                finally { gate.Release(); }
            }));
        }
        await Task.WhenAll(attempts);
        Volatile.Write(ref done, true);
        await Task.Delay(Timeout.Infinite);
        return 0;
    }

    private static async Task OpenAsync(Uri url, string token, HttpMessageInvoker invoker, ConcurrentBag<ClientWebSocket> sockets)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetBuffer(1024, 1024);
        socket.Options.KeepAliveInterval = TimeSpan.Zero; // the server pings; the read loop answers
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await socket.ConnectAsync(url, invoker, timeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or HttpRequestException)
        {
            Interlocked.Increment(ref s_failed);
            var reason = socket.HttpStatusCode != 0 ? ((int)socket.HttpStatusCode).ToString(CultureInfo.InvariantCulture) : (e.InnerException ?? e).GetType().Name;
            Reasons.AddOrUpdate(reason, 1, (_, n) => n + 1);
            socket.Dispose();
            return;
        }
        Interlocked.Increment(ref s_open);
        sockets.Add(socket);
        _ = Task.Run(async () =>
        {
            var buffer = new byte[512];
            try
            {
                while ((await socket.ReceiveAsync(buffer, CancellationToken.None)).MessageType != WebSocketMessageType.Close) { }
            }
            catch (Exception e) when (e is WebSocketException or IOException) { }
            Interlocked.Decrement(ref s_open);
            Interlocked.Increment(ref s_closed);
        });
    }
}

/// <summary>
/// <c>latency</c>: in each round, the same load (<c>--clients</c> sockets, <c>--signals</c> STARTER
/// signals at <c>--rate</c> a second) against (1) the cluster, clients spread evenly over the nodes
/// and every signal posted to node 1, and (2) a standalone node (PostgreSQL, no backplane) started
/// by this command. Latency is from just before the POST to the moment a client's receive completes,
/// on one clock.
/// </summary>
internal static class Latency
{
    public static async Task<int> RunAsync(Options options)
    {
        var cluster = new Cluster(options);
        var clients = options.GetInt("clients", 300);
        var signals = options.GetInt("signals", 400);
        var rate = options.GetInt("rate", 20);
        var rounds = options.GetInt("rounds", 2);
        var singlePort = options.GetInt("single-port", 9200);
        var serverDll = options.Get("server-dll", Path.Combine(RepoRoot(), "src/SignalStream.Server/bin/Release/net10.0/SignalStream.Server.dll"));

        using var single = await SingleNode.StartAsync(cluster, serverDll, singlePort);
        var samples = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        var missing = new Dictionary<string, long>(StringComparer.Ordinal);
        var clusterTargets = Enumerable.Range(0, clients).Select(k => 1 + k % cluster.Nodes).ToArray();
        for (var round = 1; round <= rounds; round++)
        {
            await cluster.AssertReadyAsync(); // a node without Redis would deliver by its one-second catch-up instead
            Console.WriteLine($"round {round}: {cluster.Nodes}-node cluster, {clients} clients spread over the nodes, signals posted to node1");
            await RunPhaseAsync(cluster.NodeUri(1), clusterTargets.Select(cluster.NodeWebSocket).ToArray(), cluster.AdminKey, cluster.PublisherKey,
                clusterTargets.Select(n => n == 1 ? "cluster: client on the ingesting node" : "cluster: client on another node (via Redis)").ToArray(),
                signals, rate, samples, missing);
            Console.WriteLine($"round {round}: standalone node (PostgreSQL, in-process backplane), {clients} clients");
            await RunPhaseAsync(single.Http, Enumerable.Repeat(single.WebSocket, clients).ToArray(), cluster.AdminKey, cluster.PublisherKey,
                Enumerable.Repeat("single node", clients).ToArray(), signals, rate, samples, missing);
        }

        Console.WriteLine();
        Console.WriteLine($"{clients} clients, {signals} signals at {rate}/s, {rounds} rounds; milliseconds from POST start to receipt");
        Console.WriteLine("| clients | deliveries | p50 | p90 | p99 | p99.9 | max | missing |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var (group, values) in samples.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            values.Sort();
            string P(double q) => values[Math.Min(values.Count - 1, (int)Math.Ceiling(q * values.Count) - 1)].ToString("0.0", CultureInfo.InvariantCulture);
            Console.WriteLine($"| {group} | {values.Count} | {P(0.50)} | {P(0.90)} | {P(0.99)} | {P(0.999)} | {values[^1].ToString("0.0", CultureInfo.InvariantCulture)} | {missing.GetValueOrDefault(group)} |");
        }
        return 0;
    }

    private static async Task RunPhaseAsync(Uri ingest, Uri[] targets, string adminKey, string publisherKey, string[] groups, int signals, int rate,
        Dictionary<string, List<double>> samples, Dictionary<string, long> missing)
    {
        using var http = new HttpClient { BaseAddress = ingest, Timeout = TimeSpan.FromSeconds(30) };
        // At most 8 sockets per user, under the default per-user limit of 10. A few at a time: each
        // costs a password hash on the node, and a burst of them on a cold node is its own benchmark.
        var tokens = new string[(targets.Length + 7) / 8];
        using (var gate = new SemaphoreSlim(4))
        {
            await Task.WhenAll(Enumerable.Range(0, tokens.Length).Select(async u =>
            {
                await gate.WaitAsync();
                try { tokens[u] = await Api.CreateUserAsync(http, adminKey, $"bench-lat-{Guid.NewGuid().ToString("N")[..8]}", Tier.Institutional); }
                finally { gate.Release(); }
            }));
        }
        var clients = new LatencyClient[targets.Length];
        using (var gate = new SemaphoreSlim(16))
        {
            await Task.WhenAll(targets.Select(async (target, k) =>
            {
                await gate.WaitAsync();
                try { clients[k] = await LatencyClient.ConnectAsync(target, tokens[k / 8]); }
                finally { gate.Release(); }
            }));
        }

        // Warm-up: not measured; also proves every client receives.
        var warm = 0L;
        for (var i = 0; i < 20; i++) warm = await Api.PublishAsync(http, publisherKey, $"warm-{Guid.NewGuid():N}");
        await WaitAllAsync(clients, warm);

        var started = new ConcurrentDictionary<long, long>();
        var clock = Stopwatch.GetTimestamp();
        var posts = new List<Task>(signals);
        for (var i = 0; i < signals; i++)
        {
            var due = clock + (long)(i * (double)Stopwatch.Frequency / rate);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero) await Task.Delay(wait);
            posts.Add(Task.Run(async () =>
            {
                var at = Stopwatch.GetTimestamp();
                started[await Api.PublishAsync(http, publisherKey, $"lat-{Guid.NewGuid():N}")] = at;
            }));
        }
        await Task.WhenAll(posts);
        await WaitAllAsync(clients, started.Keys.Max());

        for (var k = 0; k < clients.Length; k++)
        {
            var list = samples.TryGetValue(groups[k], out var existing) ? existing : samples[groups[k]] = [];
            var seen = 0;
            foreach (var (seq, at) in clients[k].Receipts)
            {
                if (!started.TryGetValue(seq, out var post)) continue;
                list.Add(Stopwatch.GetElapsedTime(post, at).TotalMilliseconds);
                seen++;
            }
            missing[groups[k]] = missing.GetValueOrDefault(groups[k]) + (started.Count - seen);
        }
        foreach (var client in clients) await client.DisposeAsync();
    }

    private static async Task WaitAllAsync(LatencyClient[] clients, long seq)
    {
        var deadline = Stopwatch.GetTimestamp() + 60 * Stopwatch.Frequency;
        while (clients.Any(c => c.LastSeq < seq))
        {
            if (Stopwatch.GetTimestamp() > deadline) throw new TimeoutException($"{clients.Count(c => c.LastSeq < seq)} clients never received seq {seq}");
            await Task.Delay(20);
        }
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SignalStream.slnx"))) return dir.FullName;
        return Environment.CurrentDirectory;
    }

    /// <summary>One socket that timestamps every signal frame as its receive completes.</summary>
    private sealed class LatencyClient : IAsyncDisposable
    {
        private static readonly byte[] SignalPrefix = "{\"type\":\"signal\",\"seq\":"u8.ToArray();
        private readonly ClientWebSocket _socket;
        private readonly Task _loop;
        private long _lastSeq;

        private LatencyClient(ClientWebSocket socket)
        {
            _socket = socket;
            _loop = Task.Run(ReadAsync);
        }

        public List<(long Seq, long At)> Receipts { get; } = new(1024);
        public long LastSeq => Interlocked.Read(ref _lastSeq);

        public static async Task<LatencyClient> ConnectAsync(Uri uri, string token)
        {
            var socket = new ClientWebSocket();
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
            socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await socket.ConnectAsync(uri, timeout.Token);
            return new LatencyClient(socket);
        }

        private async Task ReadAsync()
        {
            var buffer = new byte[8192];
            try
            {
                while (true)
                {
                    var result = await _socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                    var at = Stopwatch.GetTimestamp();
                    if (result.MessageType == WebSocketMessageType.Close) return;
                    var count = result.Count;
                    while (!result.EndOfMessage && count < buffer.Length)
                    {
                        result = await _socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
                        count += result.Count;
                    }
                    var frame = buffer.AsSpan(0, count);
                    if (!frame.StartsWith(SignalPrefix)) continue;
                    var digits = frame[SignalPrefix.Length..];
                    var end = digits.IndexOf((byte)',');
                    if (end > 0 && long.TryParse(Encoding.ASCII.GetString(digits[..end]), CultureInfo.InvariantCulture, out var seq))
                    {
                        Receipts.Add((seq, at));
                        Interlocked.Exchange(ref _lastSeq, Math.Max(seq, _lastSeq));
                    }
                }
            }
            catch (Exception e) when (e is WebSocketException or IOException) { }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
            await _loop;
            _socket.Dispose();
        }
    }

    /// <summary>A standalone node for the baseline: its own PostgreSQL database on the cluster's server, no backplane.</summary>
    private sealed class SingleNode : IDisposable
    {
        private readonly Process _process;

        private SingleNode(Process process, int port)
        {
            _process = process;
            Http = new Uri($"http://127.0.0.1:{port}");
            WebSocket = new Uri($"ws://127.0.0.1:{port}{Paths.Stream}");
        }

        public Uri Http { get; }
        public Uri WebSocket { get; }

        public static async Task<SingleNode> StartAsync(Cluster cluster, string serverDll, int port)
        {
            var connection = cluster.Env["Storage__ConnectionString"];
            var database = $"single_{Guid.NewGuid().ToString("N")[..8]}";
            var host = Part(connection, "Host");
            var pgPort = Part(connection, "Port");
            using (var psql = Process.Start("psql", ["-q", "-h", host, "-p", pgPort, "-U", "postgres", "-c", $"CREATE DATABASE {database}"]))
                await psql.WaitForExitAsync();
            var directory = Path.Combine(cluster.Directory, "single");
            System.IO.Directory.CreateDirectory(directory);
            var info = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = Path.GetDirectoryName(serverDll)!,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[]
            {
                serverDll, $"--urls=http://127.0.0.1:{port}", $"--Data:Directory={directory}",
                "--Storage:Provider=postgres", $"--Storage:ConnectionString={connection.Replace("Database=signalstream", $"Database={database}", StringComparison.Ordinal)}",
                "--Backplane:Provider=memory",
            })
                info.ArgumentList.Add(argument);
            foreach (var key in new[] { "Auth__SigningKey", "Auth__AdminApiKey", "Auth__PublisherApiKey" }) info.Environment[key] = cluster.Env[key];
            var process = Process.Start(info)!;
            var log = new StreamWriter(Path.Combine(cluster.Directory, "single.log")) { AutoFlush = true };
            process.OutputDataReceived += (_, e) => { lock (log) log.WriteLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (log) log.WriteLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var http = new HttpClient();
            for (var i = 0; i < 600; i++)
            {
                if (process.HasExited) throw new InvalidOperationException($"the standalone node exited; see {cluster.Directory}/single.log");
                try
                {
                    using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/readyz"));
                    if (response.IsSuccessStatusCode) return new SingleNode(process, port);
                }
                catch (HttpRequestException) { }
                await Task.Delay(200);
            }
            throw new TimeoutException("the standalone node did not become ready");
        }

        private static string Part(string connectionString, string key) =>
            connectionString.Split(';').Select(p => p.Split('=', 2)).First(p => p[0].Equals(key, StringComparison.OrdinalIgnoreCase))[1];

        public void Dispose()
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])) kill.WaitForExit();
            if (!_process.WaitForExit(20_000)) _process.Kill();
            _process.Dispose();
        }
    }
}
