using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Hosting;

/// <summary>
/// TLS terminated by Kestrel itself: <c>ConnectionUpgrade</c> sits in front of TLS and sees only the
/// ClientHello, which must go on to Kestrel at once (not wait for a request head that never comes);
/// the upgrade then takes the HTTP path, and streams as on any other.
/// </summary>
[Trait("Kind", "Functional")]
public sealed class KestrelTlsTests : IAsyncLifetime
{
    private readonly string _certificate = Path.Combine(Path.GetTempPath(), $"signalstream-tls-{Guid.NewGuid():N}.pfx");
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllBytesAsync(_certificate, certificate.Export(X509ContentType.Pfx, "test"));
        _server = await TestServer.StartAsync("--urls=https://127.0.0.1:0",
            $"--Kestrel:Certificates:Default:Path={_certificate}", "--Kestrel:Certificates:Default:Password=test");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        File.Delete(_certificate);
    }

    [Fact]
    public async Task Upgrade_OverKestrelTls_TakesTheHttpPath_AndStreams()
    {
        Assert.Equal("https", _server.BaseUri.Scheme);
        var user = await _server.CreateUserAsync(Tier.Professional);
        var (socket, welcome) = await _server.ConnectWelcomedAsync(user.Token);
        await using var _s = socket;
        Assert.Equal(Tier.Professional, welcome.Tier);

        var seq = await _server.PublishAsync(minTier: Tier.Professional);
        Assert.Equal(seq, (await socket.ExpectAsync(MessageTypes.Signal)).Seq);
        Assert.Contains(_server.Logs, l => l.Contains($"opened for user {user.Id}", StringComparison.Ordinal) && l.Contains("on the http path", StringComparison.Ordinal));
    }
}
