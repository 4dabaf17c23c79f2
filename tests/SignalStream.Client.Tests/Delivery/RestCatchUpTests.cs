using SignalStream.Client.Delivery;
using SignalStream.Client.Tests.Infrastructure;

namespace SignalStream.Client.Tests.Delivery;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class RestCatchUpTests
{
    private readonly FakeSignalList _list = new();

    [Fact]
    public async Task RunAsync_WithoutAPosition_StartsAfterTheNewestSignal()
    {
        _list.Add(1, 2, 3);
        var pieces = new ClientPieces(afterSeq: null);
        var delivered = await new RestCatchUp(_list, pieces.Resume, pieces.Delivery, 500, pieces.Log).RunAsync(null, CancellationToken.None);
        Assert.Equal(0, delivered);
        Assert.Equal(3, pieces.Resume.LastSeq);
        Assert.Equal((null, 1), Assert.Single(_list.Requests));
    }

    [Fact]
    public async Task RunAsync_PagesUntilAShortPage()
    {
        _list.Add(2, 3, 5, 8, 9, 10);
        var pieces = new ClientPieces(afterSeq: 2);
        var pages = 0;
        var delivered = await new RestCatchUp(_list, pieces.Resume, pieces.Delivery, 2, pieces.Log).RunAsync(() => pages++, CancellationToken.None);
        Assert.Equal(5, delivered);
        Assert.Equal([3, 5, 8, 9, 10], pieces.Delivered);
        Assert.Equal([2L, 5L, 9L], _list.Requests.Select(r => r.AfterSeq!.Value));
        Assert.Equal(3, pages); // the third page is short: nothing more to fetch
    }

    [Fact]
    public async Task RunAsync_FilteredSymbols_DoNotCount_ButThePositionMovesPastThem()
    {
        _list.Store[1] = FakeSignalServer.MakeSignal(1, "BTC-USD");
        _list.Store[2] = FakeSignalServer.MakeSignal(2, "ETH-USD");
        var pieces = new ClientPieces(symbols: ["ETH-USD"]);
        Assert.Equal(1, await new RestCatchUp(_list, pieces.Resume, pieces.Delivery, 500, pieces.Log).RunAsync(null, CancellationToken.None));
        Assert.Equal([2], pieces.Delivered);
        Assert.Equal(2, pieces.Resume.LastSeq);
    }

    [Fact]
    public async Task RunAsync_AnotherHistory_StartsAgainFromItsFirstSignal()
    {
        // The client was at 7 in epoch-0; the server's store was reset and holds 1..3 of epoch-1.
        _list.Add(1, 2, 3);
        var pieces = new ClientPieces(afterSeq: 7, epoch: "epoch-0");
        var delivered = await new RestCatchUp(_list, pieces.Resume, pieces.Delivery, 500, pieces.Log).RunAsync(null, CancellationToken.None);
        Assert.Equal(3, delivered);
        Assert.Equal([1, 2, 3], pieces.Delivered);
        Assert.Equal("epoch-1", pieces.Resume.Epoch);
        Assert.Equal(1, pieces.Log.Count("HistoryChanged"));
    }
}
