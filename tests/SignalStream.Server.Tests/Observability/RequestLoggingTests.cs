using SignalStream.Server.Observability;

namespace SignalStream.Server.Tests.Observability;

[Trait("Kind", "Unit")]
public sealed class RequestLoggingTests
{
    [Theory]
    [InlineData("?token=abc&after_seq=5", "?token=[redacted]&after_seq=5")]
    [InlineData("?ticket=abc", "?ticket=[redacted]")]
    [InlineData("?symbols=BTC&api_key=k", "?symbols=BTC&api_key=[redacted]")]
    [InlineData("", "")]
    [InlineData("?X-API-Key=k&limit=5", "?X-API-Key=[redacted]&limit=5")]
    [InlineData("?%74oken=abc", "?token=[redacted]")]
    [InlineData("?eyJhbGciOiJIUzI1NiJ9.e30.sig&symbols=BTC-USD", "?[redacted]&symbols=BTC-USD")]
    [InlineData("?sessionid=abc&premium_only=true", "?[redacted]&premium_only=true")]
    public void Redact_RemovesSecretsFromQuery(string query, string expected) => Assert.Equal(expected, RequestLogging.Redact(query));
}
