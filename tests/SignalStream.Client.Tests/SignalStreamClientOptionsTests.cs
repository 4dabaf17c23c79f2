using SignalStream.Client.Tests.Infrastructure;

namespace SignalStream.Client.Tests;

[Trait(TestKinds.Name, TestKinds.Unit)]
public class OptionsTests
{
    [Fact]
    public void Validate_ExactlyOneCredential()
    {
        Assert.Throws<ArgumentException>(() => new SignalStreamClientOptions().Validate());
        Assert.Throws<ArgumentException>(() => new SignalStreamClientOptions { AccessToken = "t", Username = "u", Password = "p" }.Validate());
        Assert.Throws<ArgumentException>(() => new SignalStreamClientOptions { Username = "u" }.Validate());
        Assert.Throws<ArgumentException>(() => new SignalStreamClientOptions { AccessToken = "" }.Validate());
        new SignalStreamClientOptions { AccessToken = "t" }.Validate();
        new SignalStreamClientOptions { Username = "u", Password = "p" }.Validate();
        new SignalStreamClientOptions { TokenProvider = _ => ValueTask.FromResult("t") }.Validate();
    }

    [Fact]
    public void Validate_RejectsBadNumbers()
    {
        Assert.Throws<ArgumentException>(() => new SignalStreamClientOptions { AccessToken = "t", PageSize = 501 }.Validate());
        Assert.Throws<ArgumentException>(() => new SignalStreamClientOptions { AccessToken = "t", PollingInterval = TimeSpan.Zero }.Validate());
        Assert.Throws<ArgumentException>(() => new SignalStreamClientOptions { AccessToken = "t", AfterSeq = -1 }.Validate());
        Assert.Throws<ArgumentException>(() => new SignalStreamClientOptions { AccessToken = "t", ServerUri = new Uri("ftp://x") }.Validate());
    }

    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var o = new SignalStreamClientOptions();
        Assert.Equal(new Uri("http://localhost:9001"), o.ServerUri);
        Assert.Equal(TimeSpan.FromSeconds(2), o.PollingInterval);
        Assert.Equal(500, o.PageSize);
        Assert.Equal(100, o.OfflineQueueCapacity);
        Assert.Same(TimeProvider.System, o.TimeProvider);
        var policy = Assert.IsType<ExponentialBackoffReconnectPolicy>(o.ReconnectPolicy);
        Assert.Equal(TimeSpan.FromSeconds(3), policy.InitialDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), policy.MaxDelay);
    }

    [Theory]
    [InlineData("http://localhost:9001", null, null, null, "ws://localhost:9001/ws/signals")]
    [InlineData("https://example.com", 42L, null, null, "wss://example.com/ws/signals?after_seq=42")]
    [InlineData("https://example.com", 42L, "e 1", null, "wss://example.com/ws/signals?after_seq=42&epoch=e%201")]
    [InlineData("https://example.com", null, "e1", null, "wss://example.com/ws/signals")]
    [InlineData("http://127.0.0.1:5000/base/", 0L, null, "BTC-USD,ETH-USD", "ws://127.0.0.1:5000/base/ws/signals?after_seq=0&symbols=BTC-USD,ETH-USD")]
    [InlineData("ws://h:1", null, null, "A B", "ws://h:1/ws/signals?symbols=A%20B")]
    public void StreamUri_CarriesResumeAndFilter(string server, long? afterSeq, string? epoch, string? symbols, string expected)
    {
        var uri = SignalStreamClientOptions.StreamUri(new Uri(server), afterSeq, epoch, symbols?.Split(','));
        Assert.Equal(expected, uri.AbsoluteUri);
    }

    [Theory]
    [InlineData("http://h:1", "http://h:1/")]
    [InlineData("wss://h/base", "https://h/base/")]
    public void HttpBase_IsADirectory(string server, string expected) =>
        Assert.Equal(expected, SignalStreamClientOptions.HttpBase(new Uri(server)).AbsoluteUri);
}
