using SignalStream.Client.Tests.Infrastructure;

namespace SignalStream.Client.Tests.Delivery;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class SignalDeliveryTests
{
    [Fact]
    public async Task DeliverAsync_NewSignals_GoToTheEventThenTheReader_Once()
    {
        var pieces = new ClientPieces();
        var delivery = pieces.Delivery;
        Assert.True(await delivery.DeliverAsync(FakeSignalServer.MakeSignal(1), false, CancellationToken.None));
        Assert.True(await delivery.DeliverAsync(FakeSignalServer.MakeSignal(3), false, CancellationToken.None));
        Assert.False(await delivery.DeliverAsync(FakeSignalServer.MakeSignal(3), false, CancellationToken.None));
        Assert.False(await delivery.DeliverAsync(FakeSignalServer.MakeSignal(2), false, CancellationToken.None));
        delivery.Complete();

        Assert.Equal([1, 3], pieces.Delivered);
        var read = new List<long>();
        await foreach (var signal in delivery.Reader!.ReadAllAsync())
            read.Add(signal.Seq);
        Assert.Equal([1, 3], read);
        Assert.Equal(3, pieces.Resume.LastSeq);
    }

    [Fact]
    public async Task DeliverAsync_FromRest_AppliesTheSymbolFilter_ButStillAdvances()
    {
        var pieces = new ClientPieces(symbols: ["ETH-USD"]);
        Assert.False(await pieces.Delivery.DeliverAsync(FakeSignalServer.MakeSignal(1, "BTC-USD"), filterSymbols: true, CancellationToken.None));
        Assert.True(await pieces.Delivery.DeliverAsync(FakeSignalServer.MakeSignal(2, "eth-usd"), filterSymbols: true, CancellationToken.None));
        Assert.True(await pieces.Delivery.DeliverAsync(FakeSignalServer.MakeSignal(3, "BTC-USD"), filterSymbols: false, CancellationToken.None));
        Assert.Equal([2, 3], pieces.Delivered);
        Assert.Equal(3, pieces.Resume.LastSeq);
    }

    [Fact]
    public async Task DeliverAsync_ReaderFull_WaitsForTheReader()
    {
        var pieces = new ClientPieces(readerCapacity: 1);
        await pieces.Delivery.DeliverAsync(FakeSignalServer.MakeSignal(1), false, CancellationToken.None);
        var second = pieces.Delivery.DeliverAsync(FakeSignalServer.MakeSignal(2), false, CancellationToken.None).AsTask();
        Assert.False(second.IsCompleted);
        Assert.True(pieces.Delivery.Reader!.TryRead(out var first));
        Assert.Equal(1, first.Seq);
        Assert.True(await second.WaitAsync(TestTimeouts.Default));
    }

    [Fact]
    public async Task Complete_WithAnError_FailsTheReader()
    {
        var pieces = new ClientPieces();
        pieces.Delivery.Complete(new SignalStreamException("gave up"));
        await Assert.ThrowsAsync<SignalStreamException>(async () =>
        {
            await foreach (var _ in pieces.Delivery.Reader!.ReadAllAsync())
            {
            }
        });
    }

    [Fact]
    public async Task ReaderDisabled_DeliversThroughTheEventOnly()
    {
        var pieces = new ClientPieces(readerCapacity: 0);
        Assert.Null(pieces.Delivery.Reader);
        Assert.True(await pieces.Delivery.DeliverAsync(FakeSignalServer.MakeSignal(1), false, CancellationToken.None));
        Assert.Equal([1], pieces.Delivered);
    }
}
