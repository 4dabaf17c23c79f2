using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using SignalStream.Protocol;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>
/// A client that follows the protocol's advice on closes: after an abort or any close code that
/// allows it (1001, 1011, 1013, 4001-4499) it reconnects, after a short backoff, with
/// <c>after_seq</c> = the last seq it saw. It records every frame, so a test can check the whole
/// stream it received over all its connections: complete, in order, no duplicates, nothing forbidden.
/// </summary>
public sealed class ResilientClient : IAsyncDisposable
{
    private readonly Uri _uri;
    private readonly string _token;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ClientWebSocket? _socket;
    private Task? _loop;
    private long _lastSeq;
    private volatile bool _stopping;

    public ResilientClient(string name, Uri uri, TestUserAccount user)
    {
        Name = name;
        _uri = uri;
        _token = user.Token;
        User = user;
        Tier = user.Tier;
    }

    public string Name { get; }
    public TestUserAccount User { get; }
    /// <summary>The tier the stream currently follows (changes with <c>tier_changed</c>).</summary>
    public Tier Tier { get; private set; }

    // Everything below is written by the receive loop under _gate; read it under Lock() or after the client stopped.
    /// <summary>Every signal seq received, in arrival order, over every connection (duplicates kept).</summary>
    public List<long> Seqs { get; } = [];
    public Dictionary<long, Tier> MinTiers { get; } = [];
    /// <summary>Close code of each connection that ended (0: aborted without a close frame).</summary>
    public List<int> CloseCodes { get; } = [];
    /// <summary>The node port (from nginx's header; the direct port otherwise) of each connection, in order.</summary>
    public List<int?> Upstreams { get; } = [];
    public List<(Tier Tier, long Timestamp)> TierChanges { get; } = [];
    /// <summary>Frames and refusals that should not happen.</summary>
    public List<string> Problems { get; } = [];
    public HashSet<double> Pongs { get; } = [];
    public long LastSeq => Interlocked.Read(ref _lastSeq);
    public int? CurrentUpstream { get { lock (_gate) return Upstreams.Count > 0 ? Upstreams[^1] : null; } }
    public int Connections { get { lock (_gate) return Upstreams.Count; } }

    /// <summary>Opens the first connection (with a single-use ticket when given), reads the welcome, and starts receiving.</summary>
    public async Task StartAsync(string? ticket = null)
    {
        var (socket, welcome) = await OpenAsync(afterSeq: null, ticket);
        Interlocked.Exchange(ref _lastSeq, welcome.LastSeq ?? 0);
        _socket = socket;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Runs <paramref name="read"/> under the lock that guards the recorded frames.</summary>
    public T Read<T>(Func<ResilientClient, T> read)
    {
        lock (_gate) return read(this);
    }

    /// <summary>Runs <paramref name="check"/> (assertions, say) under the lock that guards the recorded frames.</summary>
    public void Read(Action<ResilientClient> check)
    {
        lock (_gate) check(this);
    }

    /// <summary>Waits, without polling, until <paramref name="condition"/> (read under the lock) holds.</summary>
    public async Task WaitForAsync(Func<ResilientClient, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (condition(this)) return;
                changed = _changed.Task;
            }
            var left = TimeSpan.FromSeconds((deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
            if (left <= TimeSpan.Zero) throw new TimeoutException($"{Name}: timed out waiting for {what}; {Describe()}");
            await Task.WhenAny(changed, Task.Delay(left));
        }
    }

    /// <summary>A ping round trip on the current connection: frames are in order, so everything sent before the pong has arrived.</summary>
    public async Task PingAsync(TimeSpan timeout)
    {
        var ts = (double)Random.Shared.Next(1, int.MaxValue);
        var socket = _socket ?? throw new InvalidOperationException("not connected");
        await socket.SendAsync(Encoding.UTF8.GetBytes($$"""{"type":"ping","ts":{{ts}}}"""), WebSocketMessageType.Text, true, CancellationToken.None);
        await WaitForAsync(c => c.Pongs.Contains(ts), timeout, "pong");
    }

    public string Describe()
    {
        lock (_gate)
        {
            return $"{Name} ({Tier}): {Seqs.Count} signals, last {LastSeq}, connections via [{string.Join(", ", Upstreams)}], closes [{string.Join(", ", CloseCodes)}]" +
                (Problems.Count > 0 ? $", problems: {string.Join("; ", Problems)}" : "");
        }
    }

    private async Task<(ClientWebSocket Socket, ServerMessage Welcome)> OpenAsync(long? afterSeq, string? ticket)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero; // the server pings; the client answers on its own
        socket.Options.CollectHttpResponseDetails = true;
        var query = new List<string>();
        if (ticket is not null) query.Add($"ticket={Uri.EscapeDataString(ticket)}");
        else socket.Options.SetRequestHeader("Authorization", $"Bearer {_token}");
        if (afterSeq is { } after) query.Add($"after_seq={after}");
        var uri = new Uri(_uri + (query.Count > 0 ? "?" + string.Join('&', query) : ""));
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await socket.ConnectAsync(uri, timeout.Token);
            var welcome = await ReceiveAsync(socket, timeout.Token) ?? throw new WebSocketException("closed before the welcome");
            if (welcome.Type != MessageTypes.Welcome) throw new WebSocketException($"first frame was {welcome.Type}");
            var upstream = ScaleOutCluster.UpstreamPort(socket.HttpResponseHeaders) ?? _uri.Port;
            lock (_gate) Upstreams.Add(upstream);
            Pulse();
            return (socket, welcome);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task RunAsync()
    {
        var socket = _socket!;
        while (true)
        {
            var code = await ReceiveUntilClosedAsync(socket);
            lock (_gate) CloseCodes.Add(code);
            Pulse();
            if (_stopping) return;
            if (code != 0 && !SignalStream.Protocol.CloseCodes.ShouldReconnect(code))
            {
                lock (_gate) Problems.Add($"closed with {code}, which forbids reconnecting");
                Pulse();
                return;
            }
            socket.Dispose();
            socket = await ReconnectAsync();
            if (socket is null) return;
            _socket = socket;
        }
    }

    /// <summary>Reconnects with backoff (the node may be gone, the user's slots not yet freed, nginx may answer 502) until stopped.</summary>
    private async Task<ClientWebSocket?> ReconnectAsync()
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!_stopping)
        {
            try
            {
                await Task.Delay(backoff + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 100)), _stop.Token);
                return (await OpenAsync(LastSeq, ticket: null)).Socket;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return null;
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or HttpRequestException)
            {
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 1000));
            }
        }
        return null;
    }

    private async Task<int> ReceiveUntilClosedAsync(ClientWebSocket socket)
    {
        try
        {
            while (await ReceiveAsync(socket, _stop.Token) is { } message) Record(message);
            return (int)(socket.CloseStatus ?? 0);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            return (int?)socket.CloseStatus ?? 0;
        }
    }

    private void Record(ServerMessage message)
    {
        lock (_gate)
        {
            switch (message.Type)
            {
                case MessageTypes.Signal when message.Seq is { } seq && message.Signal is { } signal:
                    Seqs.Add(seq);
                    MinTiers[seq] = signal.MinTier;
                    if (signal.MinTier > Tier) Problems.Add($"seq {seq} needs {signal.MinTier} but the stream is {Tier}");
                    if (seq > LastSeq) Interlocked.Exchange(ref _lastSeq, seq);
                    break;
                case MessageTypes.TierChanged when message.Tier is { } tier:
                    Tier = tier;
                    TierChanges.Add((tier, Stopwatch.GetTimestamp()));
                    break;
                case MessageTypes.Pong when message.Ts is { } ts:
                    Pongs.Add(ts);
                    break;
                case MessageTypes.ResyncRequired or MessageTypes.Error:
                    Problems.Add($"{message.Type}: {message.Reason ?? message.Code} {message.Message}");
                    break;
            }
        }
        Pulse();
    }

    private static async Task<ServerMessage?> ReceiveAsync(ClientWebSocket socket, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        using var frame = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            frame.Write(buffer, 0, result.Count);
            if (result.EndOfMessage) break;
        }
        return JsonSerializer.Deserialize(frame.GetBuffer().AsSpan(0, (int)frame.Length), ProtocolJson.Default.ServerMessage);
    }

    private void Pulse() => Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        if (_socket is { State: WebSocketState.Open } socket)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException) { }
        }
        if (_loop is not null && await Task.WhenAny(_loop, Task.Delay(TimeSpan.FromSeconds(3))) != _loop)
        {
            await _stop.CancelAsync(); // the server did not answer the close: give up on it
            await _loop;
        }
        _socket?.Dispose();
        _stop.Dispose();
    }
}
