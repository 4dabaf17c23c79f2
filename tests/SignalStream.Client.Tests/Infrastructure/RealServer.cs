using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SignalStream.Protocol;

namespace SignalStream.Client.Tests.Infrastructure;

/// <summary>
/// The real server (<c>src/SignalStream.Server</c>) as a child process on a loopback port, with its own
/// data directory and known keys. It can be killed and started again on the same port and data, and
/// offers the few admin and publisher calls the tests need.
/// </summary>
public sealed class RealServer : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key-0123456789";
    public const string PublisherKey = "test-publisher-key-0123456789";
    private const string SigningKey = "test-signing-key-0123456789abcdef0123456789";

    private readonly string[] _extraArgs;
    private readonly StringBuilder _output = new();
    private readonly HttpClient _http;
    private Process? _process;

    private RealServer(int port, string dataDirectory, string[] extraArgs)
    {
        Port = port;
        DataDirectory = dataDirectory;
        _extraArgs = extraArgs;
        Uri = new Uri($"http://127.0.0.1:{port}/");
        _http = new HttpClient { BaseAddress = Uri, Timeout = TimeSpan.FromSeconds(60) }; // a ceiling: a busy machine is slow, not broken
    }

    public int Port { get; }
    public string DataDirectory { get; }
    public Uri Uri { get; }

    /// <summary>What the server printed, for failure messages.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>The server's dll: from <c>SIGNALSTREAM_SERVER_DLL</c>, else the build output next to the sources.</summary>
    public static string DllPath
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("SIGNALSTREAM_SERVER_DLL");
            if (!string.IsNullOrEmpty(fromEnv))
                return fromEnv;
            var built = typeof(RealServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "SignalStreamServerDll")?.Value;
            return built is not null ? Path.GetFullPath(built) : throw new InvalidOperationException("The server's dll path was not built into the test assembly.");
        }
    }

    /// <summary>Starts a server with a fresh data directory on a free port.</summary>
    /// <param name="extraArgs">More <c>--Key=value</c> settings, for example <c>--WebSockets:Enabled=false</c>.</param>
    public static async Task<RealServer> StartAsync(params string[] extraArgs)
    {
        var dir = Path.Combine(Path.GetTempPath(), "signalstream-test-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        var server = new RealServer(FreePort(), dir, extraArgs);
        await server.StartProcessAsync(extraArgs);
        return server;
    }

    /// <summary>Kills the process at once, as a crash would: no graceful close for anyone.</summary>
    public async Task KillAsync()
    {
        if (_process is not { } process)
            return;
        _process = null;
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        await process.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
        process.Dispose();
    }

    /// <summary>Starts the server again on the same port and data directory, with these settings instead of the first ones if given.</summary>
    public Task RestartAsync(params string[] extraArgs) => StartProcessAsync(extraArgs.Length > 0 ? extraArgs : _extraArgs);

    private async Task StartProcessAsync(string[] extraArgs)
    {
        var dll = DllPath;
        if (!File.Exists(dll))
            throw new FileNotFoundException($"The server is not built: {dll}");
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!, // relative paths (./data) land beside the server
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var arg in new[]
        {
            $"--urls=http://127.0.0.1:{Port}",
            $"--Data:Directory={DataDirectory}",
            $"--Auth:AdminApiKey={AdminKey}",
            $"--Auth:PublisherApiKey={PublisherKey}",
            $"--Auth:SigningKey={SigningKey}",
            "--Auth:TokenLifetime=00:00:20",
            "--Logging:LogLevel:Default=Warning",
        }.Concat(extraArgs))
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment.Remove("DOTNET_ENVIRONMENT");

        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        // Ready when /healthz answers; a process that exits first failed to start.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"The server exited with {process.ExitCode} while starting:\n{Output}");
            try
            {
                using var response = await _http.GetAsync("healthz");
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"The server did not become healthy:\n{Output}");
            await Task.Delay(50); // readiness polling of another process: nothing to await instead
        }
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
        {
            if (_output.Length < 200_000)
                _output.AppendLine(line);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // ---- admin, publisher and user calls ---------------------------------------------------------

    public async Task<string> CreateUserAsync(string username, string password, string tier = "STARTER")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Paths.AdminUsers.TrimStart('/'))
        {
            Content = JsonContent.Create(new JsonObject { ["username"] = username, ["password"] = password, ["tier"] = tier }),
        };
        request.Headers.Add("X-API-Key", AdminKey);
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"create user: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["user_id"]!.GetValue<string>();
    }

    public async Task UpdateUserAsync(string userId, JsonObject changes)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{Paths.AdminUsers.TrimStart('/')}/{userId}") { Content = JsonContent.Create(changes) };
        request.Headers.Add("X-API-Key", AdminKey);
        using var response = await _http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"update user: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public async Task<string> LoginAsync(string username, string password)
    {
        using var response = await _http.PostAsJsonAsync(Paths.Token.TrimStart('/'), new TokenRequest(username, password), ProtocolJson.Default.TokenRequest);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"login: {(int)response.StatusCode} {body}");
        return JsonSerializer.Deserialize(body, ProtocolJson.Default.TokenResponse)!.AccessToken;
    }

    /// <summary>Publishes one signal; returns its seq. <paramref name="minTier"/> decides who sees it.</summary>
    public async Task<long> PublishAsync(string externalId, string symbol = "BTC-USD", string minTier = "STARTER")
    {
        var signal = new JsonObject
        {
            ["external_id"] = externalId,
            ["source"] = "tests",
            ["symbol"] = symbol,
            ["side"] = "BUY",
            ["entry_price"] = 100.5,
            ["confidence"] = 0.5,
            ["min_tier"] = minTier,
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Ingest.TrimStart('/')) { Content = JsonContent.Create(signal) };
        request.Headers.Add("X-API-Key", PublisherKey);
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"publish: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["seq"]!.GetValue<long>();
    }

    /// <summary>The truth: every signal the token's user may see, in seq order, from the REST list.</summary>
    public async Task<List<long>> VisibleSeqsAsync(string token)
    {
        var seqs = new List<long>();
        long after = 0;
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{Paths.Signals.TrimStart('/')}?after_seq={after}&limit=500");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await _http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"list: {(int)response.StatusCode} {body}");
            var page = JsonSerializer.Deserialize(body, ProtocolJson.Default.SignalPage)!;
            seqs.AddRange(page.Signals.Select(s => s.Seq));
            if (page.Signals.Length < 500)
                return seqs;
            after = page.Signals[^1].Seq;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _http.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
