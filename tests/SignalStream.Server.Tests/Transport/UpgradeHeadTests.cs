using System.Buffers;
using System.Text;
using SignalStream.Server.Transport;

namespace SignalStream.Server.Tests.Transport;

/// <summary>
/// Which requests <see cref="ConnectionUpgrade"/> serves itself. Anything <see cref="HeadVerdict.NotOurs"/>
/// goes to Kestrel and the HTTP endpoint, which answer it as they always did, so doubt means NotOurs.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class UpgradeHeadTests
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

    private static string Head(string target = "/ws/signals?token=abc&after_seq=5", string version = "HTTP/1.1", string[]? extra = null)
    {
        var lines = new List<string>
        {
            $"GET {target} {version}", "Host: localhost:9001", "Upgrade: websocket", "Connection: keep-alive, Upgrade",
            $"Sec-WebSocket-Key: {Key}", "Sec-WebSocket-Version: 13",
        };
        lines.AddRange(extra ?? []);
        return string.Join("\r\n", lines) + "\r\n\r\n";
    }

    private static HeadVerdict Parse(string text, out UpgradeHead? head, out long length) =>
        UpgradeHead.TryParse(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(text)), out head, out length);

    private static HeadVerdict Parse(string text) => Parse(text, out _, out _);

    [Fact]
    public void CleanUpgrade_IsOurs_WithWhatAdmissionReads()
    {
        var text = Head(extra: ["Origin: http://localhost:9001", "Authorization: Bearer t0ken"]);
        Assert.Equal(HeadVerdict.Upgrade, Parse(text + "early frame bytes", out var head, out var length));
        Assert.Equal(text.Length, length); // the head only: bytes after it belong to the WebSocket
        Assert.Equal("?token=abc&after_seq=5", head!.Query);
        Assert.Equal("localhost:9001", head.Host);
        Assert.Equal(Key, head.Key);
        Assert.Equal("http://localhost:9001", head.Origin);
        Assert.Equal("Bearer t0ken", head.Authorization);
    }

    [Fact]
    public void HeadArrivingInPieces_NeedsMore_UntilTheBlankLine()
    {
        var text = Head();
        foreach (var cut in new[] { 1, 3, "GET /ws/signals".Length, 40, text.Length - 1 })
            Assert.Equal(HeadVerdict.NeedMore, Parse(text[..cut]));
        Assert.Equal(HeadVerdict.Upgrade, Parse(text));
    }

    [Theory]
    [InlineData("POST /ws/signals HTTP/1.1\r\n")] // another method
    [InlineData("GET /api/v1/signals HTTP/1.1\r\n")] // another path, known from the first bytes
    [InlineData("GET /ws/signalsx HTTP/1.1\r\n")]
    [InlineData("GET /ws/signals/ HTTP/1.1\r\n")]
    [InlineData("\u0016\u0003\u0001\u0002\u0000")] // a TLS ClientHello
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")] // the HTTP/2 preface
    public void OtherRequests_AreNotOurs_WithoutWaitingForTheirHead(string start) => Assert.Equal(HeadVerdict.NotOurs, Parse(start));

    public static TheoryData<string> Doubtful => new()
    {
        Head(target: "/WS/SIGNALS"),                                 // routing would match it; Kestrel decides
        Head(target: "/ws/signals%2F"),
        Head(version: "HTTP/1.0"),
        Head(extra: ["Content-Length: 5"]),                              // a body on an upgrade
        Head(extra: ["Transfer-Encoding: chunked"]),
        Head(extra: ["Authorization: Bearer a", "authorization: Bearer b"]), // which one?
        Head(extra: [" folded: continuation"]),                          // obsolete line folding
        Head(extra: ["Bad Name: x"]),
        Head(extra: ["X-Note: caf\u00e9"]),                               // not ASCII
        Head(extra: ["X-Note: a\u0001b"]),                                // a control character
        Head().Replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"),
        Head().Replace($"Sec-WebSocket-Key: {Key}", "Sec-WebSocket-Key: c2hvcnQ="),
        Head().Replace($"Sec-WebSocket-Key: {Key}\r\n", ""),
        Head().Replace("Upgrade: websocket", "Upgrade: h2c"),
        Head().Replace("Connection: keep-alive, Upgrade", "Connection: keep-alive"),
        Head().Replace("Host: localhost:9001", "Host: "),                 // Kestrel allows it; it decides
        Head().Replace("Host: localhost:9001", "Host: :9001"),            // invalid: Kestrel answers 400
        Head().Replace("Host: localhost:9001", "Host: localhost:9001:80"),
        Head().Replace("Host: localhost:9001", "Host: localhost:"),
        Head().Replace("Host: localhost:9001", "Host: [::]"),
        Head().Replace("Host: localhost:9001", "Host: [::1"),
        Head().Replace("Host: localhost:9001", "Host: a/b"),
        Head().Replace("Host: localhost:9001", "Host: ex@mple"),
        Head(target: "/ws/signals?a\tb"),
        Head().Replace("\r\n", "\n"),                                   // bare line feeds
        Head()[..^4] + "\nX-Late: 1\r\n\r\n",
        Head(extra: ["X-Padding: " + new string('a', UpgradeHead.MaxBytes)]), // over the size this path reads
    };

    [Theory]
    [MemberData(nameof(Doubtful))]
    public void DoubtfulUpgrades_AreNotOurs(string text) => Assert.Equal(HeadVerdict.NotOurs, Parse(text));

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1:9001")]
    [InlineData("[::1]:9001")]
    [InlineData("[::1]")]
    [InlineData("under_score.example")]
    public void PlainHosts_AreOurs(string host) =>
        Assert.Equal(HeadVerdict.Upgrade, Parse(Head().Replace("Host: localhost:9001", "Host: " + host)));

    [Fact]
    public void HeadWithoutEnd_PastTheLimit_IsNotOurs() =>
        Assert.Equal(HeadVerdict.NotOurs, Parse("GET /ws/signals?token=" + new string('a', UpgradeHead.MaxBytes)));
}
