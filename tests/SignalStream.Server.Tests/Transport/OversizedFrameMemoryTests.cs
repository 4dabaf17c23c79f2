using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Transport;

/// <summary>
/// SECURITY.md, "frame over the limit": "memory does not grow by the frame size". Measured as the
/// bytes the whole process allocates while a 10 MB frame is sent in full, so it runs in the last,
/// non-parallel collection, where no other test allocates meanwhile.
/// </summary>
[Collection(LastCollection.Name)]
[Trait("Kind", "Security")]
public sealed class OversizedFrameMemoryTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Frame_TenMegabytesSentInFull_Closes1009_WithoutTheServerAllocatingItsSize()
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.CreateUserAsync(Tier.Starter);
        await using var socket = await server.ConnectRawAsync(bearer: user.Token);
        await socket.ExpectTextAsync(); // welcome
        var payload = new byte[10 * 1024 * 1024];
        payload.AsSpan().Fill((byte)'x');
        var frame = RawWebSocket.EncodeFrame(RawFrame.Text, payload); // built (and allocated) before measuring

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var sending = socket.SendBytesAsync(frame);
        Assert.Equal(CloseCodes.MessageTooBig, await socket.ExpectCloseAsync());
        try { await sending; }
        catch (IOException) { } // the server may hang up before the client is done writing: that is fine too
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        output.WriteLine($"{allocated / 1024} KB allocated by the whole process while the frame was refused");

        Assert.True(allocated < frame.Length / 4, $"{allocated / 1024} KB allocated while a {frame.Length / 1024} KB frame was refused");
    }
}
