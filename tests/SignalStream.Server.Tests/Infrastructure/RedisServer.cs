using System.Globalization;

namespace SignalStream.Server.Tests.Infrastructure;

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
