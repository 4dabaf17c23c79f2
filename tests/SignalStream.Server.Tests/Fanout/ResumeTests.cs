using System.Net.Http.Json;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Fanout;

/// <summary>
/// Resume against a real server: a resume point from another history (another epoch, or a seq
/// beyond the history's last) answers <c>resync_required</c>, never a silent gap; and a
/// <c>resume</c> on a socket that has been live never repeats a frame that socket already got.
/// </summary>
[Trait("Kind", "Functional")]
public sealed class ResumeTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();
    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task WelcomeReplayAndRestList_CarryTheSameEpoch()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        var seq = await _server.PublishAsync();
        var (socket, welcome) = await _server.ConnectWelcomedAsync(user.Token, "after_seq=0");
        await using var _s = socket;
        var complete = await socket.ExpectAsync(MessageTypes.ReplayComplete, Wait);
        var page = await ListAsync(user.Token);

        Assert.False(string.IsNullOrEmpty(welcome.Epoch));
        Assert.Equal(welcome.Epoch, complete.Epoch);
        Assert.Equal(welcome.Epoch, page.Epoch);
        Assert.Equal(seq, page.LastSeq);
    }

    [Fact]
    public async Task AfterSeqFromAnotherEpoch_ResyncRequired_ThenLive()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        for (var i = 0; i < 3; i++) await _server.PublishAsync();

        // A client that had seen seq 1 of some other history: without the epoch it would get 2 and 3 as if they followed.
        var (socket, welcome) = await _server.ConnectWelcomedAsync(user.Token, "after_seq=1&epoch=another-history");
        await using var _s = socket;
        var resync = await socket.ReceiveAsync(Wait);
        Assert.Equal(MessageTypes.ResyncRequired, resync!.Type);
        Assert.Equal(ResyncReasons.EpochChanged, resync.Reason);
        Assert.Equal(welcome.Epoch, resync.Epoch);
        Assert.Equal(((long?)1, (long?)3), (resync.OldestSeq, resync.LastSeq));

        var live = await _server.PublishAsync();
        var frames = await socket.DrainUntilPongAsync();
        Assert.Equal([live], frames.Where(f => f.Type == MessageTypes.Signal).Select(f => f.Seq!.Value)); // no replay: the client reloads
    }

    [Fact]
    public async Task AfterSeqBeyondTheHistory_ResyncRequired_AheadOfHistory()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        var last = await _server.PublishAsync();
        var epoch = (await ListAsync(user.Token)).Epoch;

        // The same epoch, but a seq this history never reached: it went back (a restored backup).
        var (socket, _) = await _server.ConnectWelcomedAsync(user.Token, $"after_seq={last + 50}&epoch={epoch}");
        await using var _s = socket;
        var resync = await socket.ReceiveAsync(Wait);
        Assert.Equal(ResyncReasons.AheadOfHistory, resync!.Reason);
        Assert.Equal(last, resync.LastSeq);

        // The same through resume on the open socket.
        await socket.SendAsync(new { type = "resume", after_seq = last + 50 });
        Assert.Equal(ResyncReasons.AheadOfHistory, (await socket.ExpectAsync(MessageTypes.ResyncRequired, Wait)).Reason);
        var next = await _server.PublishAsync();
        Assert.Equal(next, (await socket.ExpectAsync(MessageTypes.Signal, Wait)).Seq);
    }

    [Fact]
    public async Task ResumeWithTheRightEpoch_Replays()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        var seqs = new List<long>();
        for (var i = 0; i < 3; i++) seqs.Add(await _server.PublishAsync());
        var epoch = (await ListAsync(user.Token)).Epoch;

        var (socket, _) = await _server.ConnectWelcomedAsync(user.Token, $"after_seq={seqs[0]}&epoch={epoch}");
        await using var _s = socket;
        Assert.Equal(seqs[1..], (await socket.ReceiveSignalsAsync(2, Wait)).Select(f => f.Seq!.Value));
        Assert.Equal(2, (await socket.ExpectAsync(MessageTypes.ReplayComplete, Wait)).Count);
    }

    [Fact]
    public async Task ResumeOnASocketThatWasLive_NeverSendsAFrameItAlreadyGot()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        var before = await _server.PublishAsync();
        var (socket, _) = await _server.ConnectWelcomedAsync(user.Token);
        await using var _s = socket;
        var live = new List<long>();
        for (var i = 0; i < 5; i++) live.Add(await _server.PublishAsync());
        Assert.Equal(live, (await socket.ReceiveSignalsAsync(5, Wait)).Select(f => f.Seq!.Value));

        // Resume from before everything this socket got: only what it never had may come.
        await socket.SendAsync(new { type = "resume", after_seq = before - 1 });
        var complete = await socket.ExpectAsync(MessageTypes.ReplayComplete, Wait);
        var after = await _server.PublishAsync();
        await socket.ExpectAsync(MessageTypes.Signal, Wait);
        await socket.DrainUntilPongAsync();

        var signals = socket.Received.Where(f => f.Type == MessageTypes.Signal).Select(f => f.Seq!.Value).ToList();
        Assert.Equal(signals.Distinct(), signals);
        Assert.Equal([.. live, after], signals);
        Assert.Equal(0, complete.Count);
    }

    private async Task<SignalPage> ListAsync(string token)
    {
        using var request = TestServer.UserRequest(HttpMethod.Get, Paths.Signals + "?limit=1", token);
        using var response = await _server.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.SignalPage))!;
    }
}
