using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Npgsql;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.ScaleOut;

/// <summary>
/// A real deployment on loopback: a PostgreSQL instance of its own (it is stopped as a fault, so it
/// must not be the shared one), a Redis of its own (the keys are a fixed <c>signalstream:*</c>, and it
/// is killed as a fault), three server nodes as separate <c>dotnet SignalStream.Server.dll</c>
/// processes, and Debian's nginx in front, configured with the shipped proxy settings
/// (<c>deploy/nginx-locations.conf</c>). Shared by the tests of one class: each test begins with
/// <see cref="EnsureHealthyAsync"/>, which repairs whatever the previous test broke.
/// </summary>
public sealed class ScaleOutCluster : IAsyncLifetime
{
    public const string AdminKey = "scaleout-admin-key-0123456789";
    public const string PublisherKey = "scaleout-publisher-key-0123456789";
    public const string SigningKey = "scaleout-signing-key-0123456789-0123456789-abcdef";
    public const string Password = "correct horse battery";
    public const int ConnectionsPerUser = 4;
    /// <summary>Added by the test's nginx (not by the shipped one): which node served the request.</summary>
    public const string UpstreamHeader = "X-SignalStream-Upstream";
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "signalstream-scaleout", Guid.NewGuid().ToString("N")[..12]);
    private readonly List<Node> _nodes = [];
    private int _userCounter;

    public PostgresServer Postgres { get; private set; } = null!;
    public RedisServer Redis { get; private set; } = null!;
    public NginxServer Nginx { get; private set; } = null!;
    public IReadOnlyList<Node> Nodes => _nodes;
    /// <summary>HTTP through nginx.</summary>
    public HttpClient Lb { get; private set; } = null!;
    public Uri LbWebSocket => new($"ws://127.0.0.1:{Nginx.Port}{Paths.Stream}");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        var postgres = PostgresServer.CreateAsync(Path.Combine(_root, "pg"));
        Redis = new RedisServer(Path.Combine(_root, "redis"));
        await Redis.StartAsync();
        Postgres = await postgres;
        for (var i = 1; i <= 3; i++) _nodes.Add(new Node(i, ChildProcess.FreePort(), Path.Combine(_root, $"node{i}")));

        // All at once: the schema migration runs under an advisory lock, so concurrent starts are safe.
        await Task.WhenAll(_nodes.Select(StartNodeAsync));
        Nginx = new NginxServer(Path.Combine(_root, "nginx"), _nodes.Select(n => n.Port).ToArray());
        await Nginx.StartAsync();
        Lb = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Nginx.Port}"), Timeout = TimeSpan.FromSeconds(30) };
        await WaitReadyAsync();
    }

    public async Task DisposeAsync()
    {
        Lb?.Dispose();
        Nginx?.Dispose();
        foreach (var node in _nodes) node.Dispose();
        Redis?.Dispose();
        if (Postgres is not null) await Postgres.DisposeAsync();
        if (Environment.GetEnvironmentVariable("SIGNALSTREAM_KEEP_SCALEOUT") is null)
        {
            try { Directory.Delete(_root, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Where the logs of every process are (kept after the run with SIGNALSTREAM_KEEP_SCALEOUT=1).</summary>
    public string Root => _root;

    /// <summary>The last lines of every process, for failure messages.</summary>
    public string Diagnostics() =>
        string.Join(Environment.NewLine, _nodes.Select(n => n.Tail).Append(Nginx?.Tail ?? "").Append($"logs under {_root}"));

    // ---- repair and faults ----

    /// <summary>
    /// Starts whatever is down (PostgreSQL, Redis, the nodes asked for: all by default), then waits
    /// until those nodes are ready and nginx routes to each of them.
    /// </summary>
    public async Task EnsureHealthyAsync(params Node[] needed)
    {
        if (needed.Length == 0) needed = [.. _nodes];
        if (!Postgres.IsRunning) await Postgres.StartAsync();
        if (!Redis.IsRunning) await Redis.StartAsync();
        await Task.WhenAll(needed.Where(n => !n.IsRunning).Select(StartNodeAsync));
        await WaitReadyAsync(needed);
    }

    public async Task StartNodeAsync(Node node)
    {
        node.Start(Postgres.ConnectionString, $"127.0.0.1:{Redis.Port}");
        await Eventually.TrueAsync(async () =>
        {
            if (!node.IsRunning) throw new InvalidOperationException($"{node.Name} exited with {node.ExitCode}{Environment.NewLine}{node.Tail}");
            return await node.GetStatusAsync("/healthz") == HttpStatusCode.OK;
        }, $"{node.Name} to listen", StartTimeout);
    }

    /// <summary><c>kill -9</c>: no shutdown code runs, its sockets are reset by the kernel.</summary>
    public async Task KillNodeAsync(Node node)
    {
        node.Kill();
        Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(10)), $"{node.Name} did not die");
    }

    /// <summary>Waits until the nodes (all by default) answer <c>/readyz</c> 200 and nginx has routed a request to each of them.</summary>
    public async Task WaitReadyAsync(params Node[] nodes)
    {
        if (nodes.Length == 0) nodes = [.. _nodes];
        foreach (var node in nodes)
            await Eventually.TrueAsync(async () => await node.GetStatusAsync("/readyz") == HttpStatusCode.OK, $"{node.Name} to be ready", StartTimeout);

        // nginx skips a node for fail_timeout after it failed; wait until it sends requests to every node again.
        var seen = new HashSet<int>();
        await Eventually.TrueAsync(async () =>
        {
            using var response = await Lb.GetAsync("/healthz");
            if (response.StatusCode == HttpStatusCode.OK && UpstreamPort(response.Headers) is { } port) seen.Add(port);
            return nodes.All(n => seen.Contains(n.Port));
        }, "nginx to route to every node", TimeSpan.FromSeconds(30));
    }

    /// <summary>The node nginx used (the last of <c>$upstream_addr</c>, which lists every node tried).</summary>
    public static int? UpstreamPort(IEnumerable<KeyValuePair<string, IEnumerable<string>>>? headers)
    {
        var value = headers?.FirstOrDefault(h => string.Equals(h.Key, UpstreamHeader, StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();
        var last = value?.Split(',').Last().Trim();
        var colon = last?.LastIndexOf(':') ?? -1;
        return colon > 0 && int.TryParse(last![(colon + 1)..], CultureInfo.InvariantCulture, out var port) ? port : null;
    }

    public Node NodeByPort(int port) => _nodes.Single(n => n.Port == port);

    // ---- users ----

    public async Task<TestUserAccount> CreateUserAsync(Tier tier, string prefix = "u")
    {
        var username = $"{prefix}{Interlocked.Increment(ref _userCounter)}-{Guid.NewGuid().ToString("N")[..6]}";
        using var request = AdminRequest(HttpMethod.Post, Paths.AdminUsers, new { username, password = Password, tier = tier.ToWire() });
        using var response = await _nodes[0].Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var user = (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.UserResponse))!;
        using var login = await Lb.PostAsJsonAsync(Paths.Token, new { username, password = Password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = (await login.Content.ReadFromJsonAsync(ProtocolJson.Default.TokenResponse))!.AccessToken;
        return new TestUserAccount(user.UserId, username, tier, token);
    }

    public static HttpRequestMessage AdminRequest(HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-API-Key", AdminKey);
        if (body is not null) request.Content = JsonContent.Create(body);
        return request;
    }

    /// <summary>The stats one node reports for the whole deployment.</summary>
    public static async Task<StatsResponse> StatsAsync(HttpClient http)
    {
        using var request = AdminRequest(HttpMethod.Get, Paths.Stats);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.StatsResponse))!;
    }
}

public sealed record TestUserAccount(string Id, string Username, Tier Tier, string Token);

/// <summary>One server node: <c>dotnet SignalStream.Server.dll</c> on its own loopback port.</summary>
public sealed class Node(int index, int port, string directory) : IDisposable
{
    private ChildProcess? _process;

    public int Index { get; } = index;
    public int Port { get; } = port;
    public string Name => $"node{Index}";
    public Uri BaseUri { get; } = new($"http://127.0.0.1:{port}");
    public Uri WebSocketUri => new($"ws://127.0.0.1:{Port}{Paths.Stream}");
    public HttpClient Http { get; } = new() { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    public bool IsRunning => _process is { HasExited: false };
    public int ExitCode => _process?.ExitCode ?? -1;
    public int Pid => _process?.Pid ?? 0;
    public string Tail => _process?.Tail ?? $"--- {Name}: never started ---";

    /// <summary>The server's dll, copied into the test output by the project reference.</summary>
    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "SignalStream.Server.dll");

    internal void Start(string postgres, string redis)
    {
        Directory.CreateDirectory(directory);
        _process?.Dispose();
        string[] arguments =
        [
            ServerDll,
            $"--urls=http://127.0.0.1:{Port}",
            $"--Data:Directory={directory}",
            "--Storage:Provider=postgres", $"--Storage:ConnectionString={postgres}",
            "--Backplane:Provider=redis", $"--Backplane:ConnectionString={redis}",
            $"--Auth:SigningKey={ScaleOutCluster.SigningKey}",
            $"--Auth:AdminApiKey={ScaleOutCluster.AdminKey}",
            $"--Auth:PublisherApiKey={ScaleOutCluster.PublisherKey}",
            $"--Cluster:NodeId={Name}-{Guid.NewGuid().ToString("N")[..6]}",
            $"--Limits:ConnectionsPerUser={ScaleOutCluster.ConnectionsPerUser}",
            "--Demo:SeedUsers=false",
        ];
        // Started from the test output folder; the server finds its appsettings.json next to its own dll.
        _process = ChildProcess.Start(Name, "dotnet", arguments, Path.Combine(directory, "..", $"{Name}.log"), AppContext.BaseDirectory);
    }

    internal void Kill() => _process?.Kill();

    /// <summary>SIGTERM, as <c>kill -TERM</c> (systemd, docker stop, Kubernetes) would send it.</summary>
    public Task TerminateAsync() => _process!.SignalAsync("TERM");

    public Task<bool> WaitForExitAsync(TimeSpan timeout) => _process!.WaitForExitAsync(timeout);

    public async Task<HttpStatusCode?> GetStatusAsync(string path)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var response = await Http.GetAsync(path, cts.Token);
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _process?.Dispose();
        Http.Dispose();
    }
}

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
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=signalstream";

    public static async Task<PostgresServer> CreateAsync(string directory)
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").OrderBy(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0).Last() + "/bin";
        var server = new PostgresServer(directory, bin, ChildProcess.FreePort());
        if (IsRoot) await ChildProcess.RunAsync("install", "-d", "-o", "postgres", "-g", "postgres", directory);
        else Directory.CreateDirectory(directory);
        await server.AsPostgresAsync($"{bin}/initdb -D {directory}/data -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync");
        await server.StartAsync();
        await using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={server.Port};Username=postgres;Database=postgres");
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

/// <summary>A Redis of the tests' own, a child process that can be killed and started again on the same port.</summary>
public sealed class RedisServer(string directory) : IDisposable
{
    private ChildProcess? _process;

    public int Port { get; } = ChildProcess.FreePort();
    public bool IsRunning => _process is { HasExited: false };

    public async Task StartAsync()
    {
        Directory.CreateDirectory(directory);
        _process?.Dispose();
        _process = ChildProcess.Start("redis", "redis-server",
            ["--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", directory],
            Path.Combine(directory, "redis.log"));
        var process = _process;
        await Eventually.TrueAsync(async () => process.HasExited ? throw new InvalidOperationException(process.Tail) : await ChildProcess.IsListeningAsync(Port), "redis to listen",
            TimeSpan.FromSeconds(30));
    }

    /// <summary>SIGKILL: every node loses its connection at once.</summary>
    public async Task KillAsync()
    {
        _process?.Kill();
        if (_process is not null) await _process.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    public void Dispose() => _process?.Dispose();
}

/// <summary>
/// Debian's nginx in the foreground (<c>nginx -g 'daemon off;' -c conf -p dir</c>) with its own pid,
/// log and temp paths, proxying with the shipped <c>deploy/nginx-locations.conf</c>.
/// </summary>
public sealed class NginxServer(string directory, int[] upstreamPorts) : IDisposable
{
    private ChildProcess? _process;

    public int Port { get; } = ChildProcess.FreePort();
    public string Tail => _process?.Tail ?? "--- nginx: never started ---";

    /// <summary>The shipped proxy settings, copied into the test output by the test project.</summary>
    public static string LocationsFile => Path.Combine(AppContext.BaseDirectory, "ScaleOut", "nginx-locations.conf");

    public async Task StartAsync()
    {
        Directory.CreateDirectory(directory);
        var conf = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(conf, Config());
        _process = ChildProcess.Start("nginx", "nginx",
            ["-e", Path.Combine(directory, "error.log"), "-g", "daemon off;", "-c", conf, "-p", directory], Path.Combine(directory, "stdout.log"));
        await Eventually.TrueAsync(async () =>
        {
            if (_process.HasExited) throw new InvalidOperationException($"nginx exited: {await File.ReadAllTextAsync(Path.Combine(directory, "error.log"))}");
            return await ChildProcess.IsListeningAsync(Port);
        }, "nginx to listen", TimeSpan.FromSeconds(30));
    }

    private string Config()
    {
        var servers = string.Join(Environment.NewLine, upstreamPorts.Select(p => $"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;"));
        return $$"""
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log info;
            events { worker_connections 4096; }
            http {
                log_format routed '$remote_addr "$request_method $uri" $status -> $upstream_addr ($upstream_status) $request_time s';
                access_log {{directory}}/access.log routed;
                client_body_temp_path {{directory}}/body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;

                upstream signalstream {
                    least_conn;
            {{servers}}
                    keepalive 16;
                }

                upstream signalstream_sockets {
                    least_conn;
            {{servers}}
                }

                server {
                    listen 127.0.0.1:{{Port}};
                    # Tests only: which node served the request (the shipped config does not reveal it).
                    add_header {{ScaleOutCluster.UpstreamHeader}} $upstream_addr always;
                    include {{LocationsFile}};
                }
            }
            """;
    }

    public void Dispose()
    {
        if (_process is null) return;
        if (!_process.HasExited)
        {
            _process.SignalAsync("TERM").GetAwaiter().GetResult();
            _process.WaitForExitAsync(TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
        }
        _process.Dispose();
    }
}
