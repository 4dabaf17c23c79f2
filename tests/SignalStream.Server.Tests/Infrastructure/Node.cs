using System.Net;
using SignalStream.Protocol;

namespace SignalStream.Server.Tests.Infrastructure;

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
