using System.IO.Pipelines;
using System.Net.Sockets;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>A socket's stream as the duplex pipe <see cref="Transport.PipeWebSocket"/> reads from (and, without the socket, writes to).</summary>
public sealed record StreamPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe
{
    /// <summary>The pipe over <paramref name="socket"/>; the socket stays the caller's to dispose.</summary>
    public static StreamPipe Over(Socket socket)
    {
        var stream = new NetworkStream(socket, ownsSocket: false);
        return new StreamPipe(PipeReader.Create(stream), PipeWriter.Create(stream));
    }
}
