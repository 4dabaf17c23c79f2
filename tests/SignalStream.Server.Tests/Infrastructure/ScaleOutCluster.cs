using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using SignalStream.Protocol;

namespace SignalStream.Server.Tests.Infrastructure;

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
    /// <summary>Every node exports its traces here.</summary>
    public OtlpReceiver Traces { get; private set; } = null!;
    public IReadOnlyList<Node> Nodes => _nodes;
    /// <summary>HTTP through nginx.</summary>
    public HttpClient Lb { get; private set; } = null!;
    public Uri LbWebSocket => new($"ws://127.0.0.1:{Nginx.Port}{Paths.Stream}");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        Traces = await OtlpReceiver.StartAsync();
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
        if (Traces is not null) await Traces.DisposeAsync();
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
        node.Start(Postgres.ConnectionString, $"127.0.0.1:{Redis.Port}", Traces.Endpoint);
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
