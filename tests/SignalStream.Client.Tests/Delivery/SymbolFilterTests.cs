using SignalStream.Client.Delivery;
using SignalStream.Client.Tests.Infrastructure;

namespace SignalStream.Client.Tests.Delivery;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class SymbolFilterTests
{
    [Fact]
    public void Empty_MeansAll()
    {
        Assert.Null(new SymbolFilter([]).Current);
        Assert.Null(new SymbolFilter([" ", ""]).Current);
        Assert.Null(new SymbolFilter(null).Current);
        Assert.True(new SymbolFilter(null).Allows("ANY"));
    }

    [Fact]
    public void Replace_TrimsAndDropsRepeats()
    {
        var filter = new SymbolFilter(null);
        Assert.Equal(["BTC-USD"], filter.Replace([" BTC-USD", "BTC-USD"])!);
        Assert.Equal(["BTC-USD"], filter.Current!);
        Assert.True(filter.Allows("btc-usd"));
        Assert.False(filter.Allows("ETH-USD"));
        Assert.Null(filter.Replace([]));
        Assert.True(filter.Allows("ETH-USD"));
    }
}
