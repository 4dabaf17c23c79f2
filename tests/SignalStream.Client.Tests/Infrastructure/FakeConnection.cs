using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using SignalStream.Protocol;

namespace SignalStream.Client.Tests.Infrastructure;

/// <summary>One accepted WebSocket, driven by the test.</summary>
public sealed class FakeConnection
{
    private readonly WebSocket _socket;
    private readonly Channel<string> _received = Channel.CreateUnbounded<string>();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    internal FakeConnection(WebSocket socket, IQueryCollection query, string authorization, CancellationToken shutdown)
    {
        _socket = socket;
        Query = query;
        Authorization = authorization;
        var registration = shutdown.Register(() =>
        {
            if (_completion.TrySetResult())
                SafeAbort();
        });
        _completion.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        _ = ReceiveLoopAsync();
    }

    public IQueryCollection Query { get; }
    public string Authorization { get; }
    public Task Completion => _completion.Task;

    /// <summary>The client's close status, once it closed.</summary>
    public WebSocketCloseStatus? ClientCloseStatus { get; private set; }

    public long? AfterSeq => long.TryParse(Query["after_seq"], out var v) ? v : null;

    public async Task SendAsync(string json)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public async Task SendBinaryAsync(byte[] bytes)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public Task SendWelcomeAsync(long lastSeq, int heartbeatMs = 30_000, Tier tier = Tier.Starter) =>
        SendAsync(JsonSerializer.Serialize(new WelcomeMessage("conn", "u1", tier, lastSeq, heartbeatMs, DateTimeOffset.UtcNow), ProtocolJson.Default.WelcomeMessage));

    public async Task SendSignalsAsync(params long[] seqs)
    {
        foreach (var seq in seqs)
            await SendAsync(JsonSerializer.Serialize(new SignalMessage(seq, FakeSignalServer.MakeSignal(seq)), ProtocolJson.Default.SignalMessage));
    }

    public Task SendReplayCompleteAsync(long from, long to, int count) =>
        SendAsync(JsonSerializer.Serialize(new ReplayCompleteMessage(from, to, count), ProtocolJson.Default.ReplayCompleteMessage));

    public async Task CloseAsync(int code, string reason = "")
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, CancellationToken.None);
        }
        catch (WebSocketException)
        {
        }
        finally
        {
            _sendLock.Release();
        }
        _completion.TrySetResult();
    }

    /// <summary>Drops the TCP connection without a close frame, as a crashed server or a broken network would.</summary>
    public void Abort()
    {
        SafeAbort();
        _completion.TrySetResult();
    }

    private void SafeAbort()
    {
        try
        {
            _socket.Abort();
        }
        catch (ObjectDisposedException)
        {
            // the request already ended
        }
    }

    /// <summary>The next text frame from the client, or null once it closed.</summary>
    public async Task<string?> ReceiveAsync(TimeSpan? timeout = null)
    {
        try
        {
            return await _received.Reader.ReadAsync().AsTask().WaitAsync(timeout ?? TestTimeouts.Default);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>The next frame of the given type, skipping others (pings, usually).</summary>
    public async Task<JsonElement> ReceiveTypeAsync(string type, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TestTimeouts.Default);
        while (true)
        {
            var text = await _received.Reader.ReadAsync(cts.Token);
            var element = JsonDocument.Parse(text).RootElement;
            if (element.GetProperty("type").GetString() == type)
                return element;
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var builder = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                    builder.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    ClientCloseStatus = result.CloseStatus;
                    break;
                }
                await _received.Writer.WriteAsync(Encoding.UTF8.GetString(builder.ToArray()));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        _received.Writer.TryComplete();
        _completion.TrySetResult();
    }
}
