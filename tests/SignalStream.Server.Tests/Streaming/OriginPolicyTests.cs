using SignalStream.Server.Streaming;

namespace SignalStream.Server.Tests.Streaming;

[Trait("Kind", "Unit")]
public sealed class OriginPolicyTests
{
    [Theory]
    [InlineData(null, true)]
    [InlineData("https://app.example", true)]
    [InlineData("https://app.example.evil", false)]
    [InlineData("https://evil.example", false)]
    [InlineData("null", false)]
    [InlineData("HTTPS://APP.EXAMPLE", false)]
    public void Origin_ExactMatchOnly(string? origin, bool allowed) =>
        Assert.Equal(allowed, OriginPolicy.IsAllowed(origin, "http://localhost:9001", ["https://app.example"]));

    [Fact]
    public void Origin_WithoutAllowList_OnlyTheServersOwn()
    {
        Assert.True(OriginPolicy.IsAllowed("http://localhost:9001", "http://localhost:9001", []));
        Assert.False(OriginPolicy.IsAllowed("http://localhost:9002", "http://localhost:9001", []));
        Assert.False(OriginPolicy.IsAllowed("", "http://localhost:9001", []));
    }
}
