using System.Text;
using SignalStream.Client.Delivery;
using SignalStream.Client.Tests.Infrastructure;
using SignalStream.Protocol;

namespace SignalStream.Client.Tests.Delivery;

[Trait(TestKinds.Name, TestKinds.Unit)]
public class FrameParserTests
{
    private static bool Parse(string json, out ServerMessage message, out string? error) =>
        FrameParser.TryParse(Encoding.UTF8.GetBytes(json), out message, out error);

    [Fact]
    public void TryParse_Welcome_ReadsEveryField()
    {
        Assert.True(Parse("""{"type":"welcome","connection_id":"c1","user_id":"u1","tier":"PROFESSIONAL","last_seq":42,"heartbeat_ms":15000,"server_time":"2026-11-25T17:00:00.000Z"}""", out var m, out _));
        Assert.Equal(MessageTypes.Welcome, m.Type);
        Assert.Equal("c1", m.ConnectionId);
        Assert.Equal(Tier.Professional, m.Tier);
        Assert.Equal(42, m.LastSeq);
        Assert.Equal(15000, m.HeartbeatMs);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 17, 0, 0, TimeSpan.Zero), m.ServerTime);
    }

    [Fact]
    public void TryParse_Signal_ReadsTheStoredSignal()
    {
        const string json = """
            {"type":"signal","seq":7,"signal":{"id":"s7","seq":7,"external_id":"e","source":"acme","symbol":"BTC-USD","side":"BUY",
             "entry_price":65000.5,"confidence":0.82,"premium":true,"min_tier":"PROFESSIONAL","received_at":"2026-11-25T17:00:00.123Z","extra":"ignored"}}
            """;
        Assert.True(Parse(json, out var m, out _));
        var signal = FrameParser.SignalOf(m);
        Assert.Equal(7, signal.Seq);
        Assert.Equal("BTC-USD", signal.Symbol);
        Assert.Equal(65000.5m, signal.EntryPrice);
        Assert.Equal(Tier.Professional, signal.MinTier);
        Assert.Equal(123, signal.ReceivedAt.Millisecond);
    }

    [Fact]
    public void SignalOf_StoredFormWithoutSeq_TakesTheFramesSeq()
    {
        Assert.True(Parse("""{"type":"signal","seq":9,"signal":{"id":"s","symbol":"ETH-USD","side":"SELL"}}""", out var m, out _));
        Assert.Equal(9, FrameParser.SignalOf(m).Seq);
    }

    [Theory]
    [InlineData("not json", "invalid JSON")]
    [InlineData("{\"type\":\"signal\"", "invalid JSON")]
    [InlineData("[1,2]", "invalid JSON")]
    [InlineData("null", "not a JSON object")]
    [InlineData("{\"seq\":1}", "no type")]
    [InlineData("{\"type\":\"signal\",\"seq\":1}", "signal frame without signal")]
    [InlineData("{\"type\":\"signal\",\"signal\":{\"symbol\":\"X\"}}", "signal frame without seq")]
    [InlineData("{\"type\":\"welcome\",\"tier\":\"STARTER\"}", "welcome without last_seq")]
    [InlineData("{\"type\":\"welcome\",\"tier\":\"GOLD\",\"last_seq\":1}", "invalid JSON")]
    [InlineData("{\"type\":\"tier_changed\"}", "tier_changed without tier")]
    [InlineData("{\"type\":\"signal\",\"seq\":\"seven\",\"signal\":{}}", "invalid JSON")]
    public void TryParse_Unreadable_FailsWithAReason(string json, string reason)
    {
        Assert.False(Parse(json, out _, out var error));
        Assert.StartsWith(reason, error);
    }

    [Fact]
    public void TryParse_UnknownType_ParsesSoItCanBeSkipped()
    {
        Assert.True(Parse("""{"type":"something_new","whatever":1}""", out var m, out _));
        Assert.Equal("something_new", m.Type);
    }

    [Theory]
    [InlineData("""{"type":"replay_complete","from_seq":3,"to_seq":9,"count":4}""")]
    [InlineData("""{"type":"resync_required","reason":"history_truncated","oldest_seq":100}""")]
    [InlineData("""{"type":"tier_changed","tier":"INSTITUTIONAL"}""")]
    [InlineData("""{"type":"pong","ts":12345}""")]
    [InlineData("""{"type":"token_expiring","expires_at":"2026-11-25T17:00:00.000Z"}""")]
    [InlineData("""{"type":"error","code":"invalid_json","message":"bad"}""")]
    public void TryParse_EveryServerMessage_Parses(string json)
    {
        Assert.True(Parse(json, out _, out var error), error);
    }

    [Fact]
    public void Serialize_ClientMessages_UseSnakeCaseAndOmitNulls()
    {
        Assert.Equal("""{"type":"ping","ts":5}""", Encoding.UTF8.GetString(FrameParser.Serialize(new ClientMessage { Type = "ping", Ts = 5 })));
        Assert.Equal("""{"type":"subscribe","symbols":["BTC-USD"]}""", Encoding.UTF8.GetString(FrameParser.Serialize(new ClientMessage { Type = "subscribe", Symbols = ["BTC-USD"] })));
        Assert.Equal("""{"type":"resume","after_seq":3}""", Encoding.UTF8.GetString(FrameParser.Serialize(new ClientMessage { Type = "resume", AfterSeq = 3 })));
        Assert.Equal("""{"type":"refresh","token":"t"}""", Encoding.UTF8.GetString(FrameParser.Serialize(new ClientMessage { Type = "refresh", Token = "t" })));
    }
}
