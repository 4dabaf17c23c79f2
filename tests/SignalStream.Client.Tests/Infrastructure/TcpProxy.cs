using System.Net;
using System.Net.Sockets;

namespace SignalStream.Client.Tests.Infrastructure;

/// <summary>
/// A loopback TCP forwarder between the client and the real server, for network faults the server
/// cannot make by itself: cut every connection (<see cref="DropAll"/>), or keep connections open but
/// stop passing bytes (<see cref="FreezeAll"/>, a dead peer behind a NAT).
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<(TcpClient Client, TcpClient Upstream, CancellationTokenSource Cts)> _pairs = [];
    private int _accepted;

    public TcpProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        Uri = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _ = AcceptLoopAsync();
    }

    public Uri Uri { get; }

    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>While set, new connections are reset at once (a partition): the client keeps retrying, and gets nowhere.</summary>
    public bool RefuseNew { get; set; }

    /// <summary>Resets every open connection (RST, no WebSocket close frame).</summary>
    public void DropAll()
    {
        List<(TcpClient Client, TcpClient Upstream, CancellationTokenSource Cts)> pairs;
        lock (_lock)
        {
            pairs = [.. _pairs];
            _pairs.Clear();
        }
        foreach (var (client, upstream, cts) in pairs)
        {
            cts.Cancel();
            client.Client.LingerState = new LingerOption(true, 0);
            client.Dispose();
            upstream.Dispose();
        }
    }

    /// <summary>Open connections stop passing bytes either way but stay open, like a peer that died silently; new connections work.</summary>
    public void FreezeAll()
    {
        lock (_lock)
        {
            foreach (var pair in _pairs)
                pair.Cts.Cancel(); // stops the pumps, keeps the sockets
        }
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                var upstream = new TcpClient();
                try
                {
                    if (RefuseNew)
                        throw new SocketException((int)SocketError.ConnectionRefused);
                    await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
                }
                catch (SocketException)
                {
                    client.Client.LingerState = new LingerOption(true, 0);
                    client.Dispose();
                    upstream.Dispose();
                    continue;
                }
                var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                lock (_lock)
                    _pairs.Add((client, upstream, cts));
                _ = PumpAsync(client, upstream, cts);
                _ = PumpAsync(upstream, client, cts);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to, CancellationTokenSource cts)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            var source = from.GetStream();
            var target = to.GetStream();
            while (true)
            {
                var n = await source.ReadAsync(buffer, cts.Token);
                if (n == 0)
                    break;
                await target.WriteAsync(buffer.AsMemory(0, n), cts.Token);
            }
            to.Client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        DropAll();
        _stop.Dispose();
    }
}
