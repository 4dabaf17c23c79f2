using System.Collections.Concurrent;
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
    private readonly ChildProcess _process;
    private readonly bool _ownsData;

    private ChildServer(ChildProcess process, Uri baseUri, string dataDirectory, bool ownsData, ConcurrentQueue<string> output)
    {
        _process = process;
        _ownsData = ownsData;
        Output = output;
        BaseUri = baseUri;
        DataDirectory = dataDirectory;
        Http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseUri { get; }
    public HttpClient Http { get; }
    public string DataDirectory { get; }
    public int Pid => _process.Pid;
    public bool HasExited => _process.HasExited;
    public ConcurrentQueue<string> Output { get; }

    /// <param name="fileLimit">The soft and hard descriptor limit of the process; 0 leaves it.</param>
    /// <param name="dataDirectory">Reuse a data directory (a restart); null makes a fresh one, removed at dispose.</param>
    public static async Task<ChildServer> StartAsync(int fileLimit, string? dataDirectory, params string[] settings)
    {
        var ownsData = dataDirectory is null;
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "signalstream-tests", Guid.NewGuid().ToString("N"));
        var dll = Path.Combine(AppContext.BaseDirectory, "SignalStream.Server.dll");
        string[] arguments =
        [
            "-c", (fileLimit > 0 ? $"ulimit -n {fileLimit} && " : "") + "exec dotnet \"$0\" \"$@\"", dll,
            "--urls=http://127.0.0.1:0",
            $"--Data:Directory={dataDirectory}",
            $"--Auth:AdminApiKey={TestServer.AdminKey}",
            $"--Auth:PublisherApiKey={TestServer.PublisherKey}",
            $"--Auth:SigningKey={TestServer.SigningKey}",
            "--Logging:LogLevel:SignalStream.Server.Observability.RequestLogging=Information",
            "--Logging:Console:FormatterOptions:SingleLine=true",
            .. settings,
        ];
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new ConcurrentQueue<string>();
        void OnLine(string line)
        {
            output.Enqueue(line);
            TestServer.AllLogs.Enqueue("[child] " + line);
            if (ListeningOn().Match(line) is { Success: true } m) listening.TrySetResult(new Uri(m.Groups[1].Value));
        }
        var process = ChildProcess.Start("server", "bash", arguments, logPath: null, AppContext.BaseDirectory, OnLine,
            new Dictionary<string, string> { ["DOTNET_gcServer"] = "0" }); // one small heap: several of these run beside the tests
        _ = process.WaitForExitAsync(Timeout.InfiniteTimeSpan).ContinueWith(_ => listening.TrySetException(new InvalidOperationException("the server exited: " + process.Tail)), TaskScheduler.Default);

        Uri baseUri;
        try
        {
            baseUri = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch
        {
            process.Dispose();
            throw;
        }
        return new ChildServer(process, baseUri, dataDirectory, ownsData, output);
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningOn();

    /// <summary>Descriptors the process holds right now.</summary>
    public int OpenDescriptors => Directory.GetFiles($"/proc/{Pid}/fd").Length;

    /// <summary>Sends a real signal, as an orchestrator would (<c>kill -TERM</c>, <c>kill -KILL</c>).</summary>
    public Task SignalAsync(string signal) => _process.SignalAsync(signal);

    /// <summary>True when the process exited within <paramref name="timeout"/>.</summary>
    public Task<bool> WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync(timeout);

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

    public ValueTask DisposeAsync()
    {
        Http.Dispose();
        _process.Dispose(); // kills it if it still runs
        if (_ownsData)
            try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
        return ValueTask.CompletedTask;
    }
}
