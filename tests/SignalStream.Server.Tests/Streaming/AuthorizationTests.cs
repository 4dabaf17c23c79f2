using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Streaming;

/// <summary>
/// SECURITY.md, "Authorization": nothing is shown to a user who may not see it, on any path (live,
/// replay, resume, REST), whatever the client claims; tier changes take effect within a second.
/// (The tier lookup failing is <see cref="StorageOutageTests"/>.)
/// </summary>
[Trait("Kind", "Security")]
public sealed class AuthorizationTests(AuthorizationTests.Fixture fixture) : IClassFixture<AuthorizationTests.Fixture>
{
    public sealed class Fixture() : ServerFixture();

    private TestServer Server => fixture.Server;

    [Fact]
    public async Task Starter_WhilePremiumIsPublished_GetsNoPremiumFrame_LiveReplayedResumedOrListed()
    {
        var starter = await Server.CreateUserAsync(Tier.Starter);
        var (live, _) = await Server.ConnectWelcomedAsync(starter.Token);
        await using var _l = live;
        var start = await Server.PublishAsync();
        await live.ExpectAsync(MessageTypes.Signal);

        var open = new List<long>();
        for (var i = 0; i < 9; i++)
        {
            if (i % 3 == 0) open.Add(await Server.PublishAsync());
            else if (i % 3 == 1) await Server.PublishAsync(minTier: Tier.Professional);
            else using (var flagged = await Server.PostSignalAsync(TestServer.NewSignal(premium: true))) Assert.Equal(HttpStatusCode.Created, flagged.StatusCode);
        }

        // Live, then resumed in-band (none twice: the socket got them live), then replayed on connect: the same open signals, nothing else.
        Assert.Equal(open, Signals(await live.DrainUntilPongAsync()));
        await live.SendAsync(new { type = "resume", after_seq = start });
        var resumed = new List<ServerMessage>();
        ServerMessage frame;
        while ((frame = (await live.ReceiveAsync())!).Type != MessageTypes.ReplayComplete) resumed.Add(frame);
        Assert.Empty(Signals(resumed));
        var (replayed, _) = await Server.ConnectWelcomedAsync(starter.Token, $"after_seq={start}");
        await using var _r = replayed;
        await replayed.ExpectAsync(MessageTypes.ReplayComplete);
        Assert.Equal(open, Signals(replayed.Received));
        Assert.All(live.Received.Concat(replayed.Received).Where(f => f.Signal is not null), f =>
        {
            Assert.Equal(Tier.Starter, f.Signal!.MinTier);
            Assert.False(f.Signal.Premium);
        });

        // The REST list, newest first or after a seq, premium_only or not.
        foreach (var query in new[] { "?limit=500", $"?after_seq={start}&limit=500", "?premium_only=true&limit=500" })
        {
            using var request = TestServer.UserRequest(HttpMethod.Get, Paths.Signals + query, starter.Token);
            using var response = await Server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.SignalPage))!;
            Assert.All(page.Signals, s => Assert.True(s.MinTier == Tier.Starter && !s.Premium, $"premium signal {s.Seq} listed for {query}"));
        }
    }

    [Fact]
    public async Task TierClaimedByTheClient_InQueryMessageOrTokenClaim_IsIgnored()
    {
        var starter = await Server.CreateUserAsync(Tier.Starter);
        // A token that carries a tier claim, signed with the real key: only the store's tier counts.
        var claimed = TestServer.RememberSecret(new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "signalstream",
            Audience = "signalstream",
            Expires = DateTime.UtcNow.AddMinutes(5),
            Claims = new Dictionary<string, object> { ["sub"] = starter.Id, ["tier"] = "INSTITUTIONAL", ["premium"] = true, ["role"] = "admin" },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(TestServer.SigningKey)), SecurityAlgorithms.HmacSha256),
        }));

        var (socket, welcome) = await Server.ConnectWelcomedAsync(claimed, "tier=INSTITUTIONAL&min_tier=INSTITUTIONAL&premium=true");
        await using var _s = socket;
        Assert.Equal(Tier.Starter, welcome.Tier);
        await socket.SendAsync(new { type = "subscribe", symbols = Array.Empty<string>(), tier = "INSTITUTIONAL" });
        await socket.SendAsync(new { type = "tier_changed", tier = "INSTITUTIONAL" });
        await socket.SendAsync(new { type = "welcome", tier = "INSTITUTIONAL" });
        await socket.DrainUntilPongAsync();

        await Server.PublishAsync(minTier: Tier.Institutional);
        var open = await Server.PublishAsync();
        Assert.Equal([open], Signals(await socket.DrainUntilPongAsync()));

        using var request = TestServer.UserRequest(HttpMethod.Get, $"{Paths.Signals}?limit=500&tier=INSTITUTIONAL", claimed);
        using var response = await Server.Http.SendAsync(request);
        var page = (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.SignalPage))!;
        Assert.All(page.Signals, s => Assert.Equal(Tier.Starter, s.MinTier));
        // And the admin API does not take a user's token, whatever it claims.
        using var admin = TestServer.UserRequest(HttpMethod.Get, Paths.AdminUsers, claimed);
        using var adminResponse = await Server.Http.SendAsync(admin);
        Assert.Equal(HttpStatusCode.Unauthorized, adminResponse.StatusCode);
    }

    [Fact]
    public async Task Downgrade_WhileSignalsFlow_TierChangedThenNoPremiumFrame_UpgradeStartsPremiumWithinASecond()
    {
        // "Within a second" of the server's time: its clock moves only when the test says.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(clock);
        var user = await server.CreateUserAsync(Tier.Institutional);
        var (socket, _) = await server.ConnectWelcomedAsync(user.Token);
        await using var _s = socket;

        // Premium keeps flowing while the tier drops.
        using var stop = new CancellationTokenSource();
        var publishing = Task.Run(async () =>
        {
            var count = 0;
            while (!stop.IsCancellationRequested)
            {
                await server.PublishAsync(minTier: count++ % 2 == 0 ? Tier.Professional : Tier.Starter);
                await Task.Delay(10); // a steady stream, not a flood
            }
        });
        await socket.ExpectAsync(MessageTypes.Signal);
        using (var down = await server.UpdateUserAsync(user.Id, new { tier = "STARTER" })) Assert.Equal(HttpStatusCode.OK, down.StatusCode);
        clock.Advance(TimeSpan.FromSeconds(1));
        var changed = await socket.ExpectAsync(MessageTypes.TierChanged);
        Assert.Equal(Tier.Starter, changed.Tier);

        // From the tier_changed on, for a while of publishing: no premium frame at all.
        var afterChange = new List<ServerMessage>();
        var until = DateTime.UtcNow.AddSeconds(1);
        while (DateTime.UtcNow < until) afterChange.Add((await socket.ReceiveAsync())!);
        Assert.Contains(afterChange, f => f.Type == MessageTypes.Signal);
        Assert.All(afterChange.Where(f => f.Signal is not null), f => Assert.Equal(Tier.Starter, f.Signal!.MinTier));

        // And back up: premium again within a second.
        using (var up = await server.UpdateUserAsync(user.Id, new { tier = "PROFESSIONAL" })) Assert.Equal(HttpStatusCode.OK, up.StatusCode);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Tier.Professional, (await socket.ExpectAsync(MessageTypes.TierChanged)).Tier);
        var premiumAgain = await socket.ExpectAsync(MessageTypes.Signal);
        while (premiumAgain.Signal!.MinTier != Tier.Professional) premiumAgain = await socket.ExpectAsync(MessageTypes.Signal);
        await stop.CancelAsync();
        await publishing;
    }

    private static List<long> Signals(IEnumerable<ServerMessage> frames) =>
        frames.Where(f => f.Type == MessageTypes.Signal).Select(f => f.Seq!.Value).ToList();
}
