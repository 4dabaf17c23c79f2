using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using SignalStream.Protocol;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>
/// The server as its own process, started the way an operator starts it (<c>dotnet SignalStream.Server.dll</c>),
/// under a lowered descriptor limit when asked: <c>bash -c 'ulimit -n N; exec dotnet ...'</c>. It can
/// be sent real signals (SIGTERM, SIGKILL). Everything it prints goes to <see cref="Output"/> and to
/// <see cref="TestServer.AllLogs"/>, for the secrets scan.
/// </summary>
public sealed partial class ChildServer : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<int, Process> Live = new();
    private readonly Process _process;
    private readonly bool _ownsData;

    static ChildServer()
    {
        // A failed or aborted run must not leave servers behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var process in Live.Values)
            {
                try { process.Kill(); }
                catch (InvalidOperationException) { }
            }
        };
    }

    private ChildServer(Process process, Uri baseUri, string dataDirectory, bool ownsData)
    {
        _process = process;
        _ownsData = ownsData;
        BaseUri = baseUri;
        DataDirectory = dataDirectory;
        Http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseUri { get; }
    public HttpClient Http { get; }
    public string DataDirectory { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public ConcurrentQueue<string> Output { get; } = new();

    /// <param name="fileLimit">The soft and hard descriptor limit of the process; 0 leaves it.</param>
    /// <param name="dataDirectory">Reuse a data directory (a restart); null makes a fresh one, removed at dispose.</param>
    public static async Task<ChildServer> StartAsync(int fileLimit, string? dataDirectory, params string[] settings)
    {
        var ownsData = dataDirectory is null;
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "signalstream-tests", Guid.NewGuid().ToString("N"));
        var dll = Path.Combine(AppContext.BaseDirectory, "SignalStream.Server.dll");
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add((fileLimit > 0 ? $"ulimit -n {fileLimit} && " : "") + "exec dotnet \"$0\" \"$@\"");
        start.ArgumentList.Add(dll);
        foreach (var arg in (string[])[
            "--urls=http://127.0.0.1:0",
            $"--Data:Directory={dataDirectory}",
            $"--Auth:AdminApiKey={TestServer.AdminKey}",
            $"--Auth:PublisherApiKey={TestServer.PublisherKey}",
            $"--Auth:SigningKey={TestServer.SigningKey}",
            "--Demo:SeedUsers=false",
            "--Logging:LogLevel:SignalStream.Server.Observability.RequestLogging=Information",
            "--Logging:Console:FormatterOptions:SingleLine=true",
            .. settings])
            start.ArgumentList.Add(arg);
        start.Environment["DOTNET_gcServer"] = "0"; // one small heap: several of these run beside the tests

        var process = Process.Start(start)!;
        Live[process.Id] = process;
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new ConcurrentQueue<string>();
        void OnLine(string? line)
        {
            if (line is null) return;
            output.Enqueue(line);
            TestServer.AllLogs.Enqueue("[child] " + line);
            if (ListeningOn().Match(line) is { Success: true } m) listening.TrySetResult(new Uri(m.Groups[1].Value));
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _ = process.WaitForExitAsync().ContinueWith(_ => listening.TrySetException(new InvalidOperationException("the server exited: " + string.Join('\n', output))), TaskScheduler.Default);

        Uri baseUri;
        try
        {
            baseUri = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch
        {
            if (!process.HasExited) process.Kill();
            throw;
        }
        var child = new ChildServer(process, baseUri, dataDirectory, ownsData);
        foreach (var line in output) child.Output.Enqueue(line);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) child.Output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) child.Output.Enqueue(e.Data); };
        return child;
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningOn();

    /// <summary>Descriptors the process holds right now.</summary>
    public int OpenDescriptors => Directory.GetFiles($"/proc/{Pid}/fd").Length;

    /// <summary>Sends a real signal, as an orchestrator would (<c>kill -TERM</c>, <c>kill -KILL</c>).</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{signal} {Pid} failed");
    }

    /// <summary>True when the process exited within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public int ExitCode => _process.ExitCode;

    // ---- the same helpers as TestServer, over HTTP only ----

    public async Task<TestUser> CreateUserAsync(Tier tier, string? username = null)
    {
        username ??= $"child-{Guid.NewGuid():N}"[..20];
        using var request = TestServer.AdminRequest(HttpMethod.Post, Paths.AdminUsers, new { username, password = TestServer.Password, tier = tier.ToWire() });
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var user = (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.UserResponse))!;
        return new TestUser(user.UserId, username, tier, await LoginAsync(username));
    }

    public async Task<string> LoginAsync(string username)
    {
        using var response = await Http.PostAsJsonAsync(Paths.Token, new { username, password = TestServer.Password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return TestServer.RememberSecret((await response.Content.ReadFromJsonAsync(ProtocolJson.Default.TokenResponse))!.AccessToken);
    }

    public async Task<long> PublishAsync(Tier minTier = Tier.Starter)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Ingest) { Content = JsonContent.Create(TestServer.NewSignal(minTier: minTier)) };
        request.Headers.Add("X-API-Key", TestServer.PublisherKey);
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.IngestResponse))!.Seq;
    }

    public Task<RawWebSocket> ConnectRawAsync(string token, string query = "") =>
        RawWebSocket.ConnectAsync(BaseUri, Paths.Stream + (query.Length > 0 ? "?" + query : ""), [("Authorization", $"Bearer {token}")]);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await WaitForExitAsync(TimeSpan.FromSeconds(10));
        }
        Live.TryRemove(_process.Id, out _);
        _process.Dispose();
        if (_ownsData)
            try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
    }
}
