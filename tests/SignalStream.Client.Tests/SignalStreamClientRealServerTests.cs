using System.Text.Json.Nodes;
using SignalStream.Client.Tests.Infrastructure;
using SignalStream.Protocol;
using Xunit.Abstractions;

namespace SignalStream.Client.Tests;

/// <summary>
/// The client against the real server process on a loopback port, through crashes, restarts, dropped
/// and frozen connections, token expiry and refused upgrades. Each test compares what the consumer saw
/// with the server's own REST list for that user: every visible signal exactly once, in seq order.
/// </summary>
[Collection(RealServerCollection.Name)]
[Trait(TestKinds.Name, TestKinds.RealServer)]
public sealed class SignalStreamClientRealServerTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Password = "correct horse battery";
    private readonly List<IAsyncDisposable> _cleanup = [];
    private RealServer _server = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _cleanup.Count - 1; i >= 0; i--)
            await _cleanup[i].DisposeAsync();
        if (_server is not null)
        {
            output.WriteLine(_server.Output.Length > 20_000 ? _server.Output[^20_000..] : _server.Output);
            await _server.DisposeAsync();
        }
    }

    private async Task StartServerAsync(params string[] args)
    {
        _server = await RealServer.StartAsync(args);
    }

    private static IReconnectPolicy Fast => new ExponentialBackoffReconnectPolicy(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1));

    private (SignalStreamClient Client, ClientProbe Probe, TestLogger Log) NewClient(Action<SignalStreamClientOptions> configure)
    {
        var options = new SignalStreamClientOptions
        {
            ServerUri = _server.Uri,
            AfterSeq = 0,
            ReconnectPolicy = Fast,
            PollingInterval = TimeSpan.FromMilliseconds(200),
        };
        configure(options);
        var log = new TestLogger();
        var client = new SignalStreamClient(options, log);
        _cleanup.Add(client);
        return (client, new ClientProbe(client), log);
    }

    /// <summary>
    /// Publishes <paramref name="count"/> signals, every third one for PROFESSIONAL and up (so a STARTER
    /// consumer must not see it), retrying each until the server takes it: a retry after a crash is
    /// answered as a duplicate, never stored twice.
    /// </summary>
    private async Task<long> PublishAsync(string prefix, int count, Func<int, long, Task>? after = null)
    {
        long last = 0;
        for (var i = 1; i <= count; i++)
        {
            var tier = i % 3 == 0 ? "PROFESSIONAL" : "STARTER";
            while (true)
            {
                try
                {
                    last = await _server.PublishAsync($"{prefix}-{i}", i % 2 == 0 ? "ETH-USD" : "BTC-USD", tier);
                    break;
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(100); // the server is down on purpose; a publisher retries
                }
            }
            if (after is not null)
                await after(i, last);
        }
        return last;
    }

    private async Task AssertSawEveryVisibleSignalOnceAsync(ClientProbe probe, string username)
    {
        var token = await _server.LoginAsync(username, Password);
        var visible = await _server.VisibleSeqsAsync(token);
        Assert.NotEmpty(visible);
        await probe.WaitForSeqAsync(visible[^1]);
        probe.AssertExactly(visible);
    }

    [Fact]
    public async Task KillServerMidStream_AndRestart_ConsumerSeesEveryVisibleSignalOnceInOrder()
    {
        await StartServerAsync();
        await _server.CreateUserAsync("alice", Password, "STARTER");
        var (client, probe, _) = NewClient(o => { o.Username = "alice"; o.Password = Password; });
        await client.StartAsync();

        var killed = new TaskCompletionSource();
        var publishing = PublishAsync("crash", 60, async (i, _) =>
        {
            if (i == 25)
            {
                // Mid-stream: the consumer is receiving when the process dies without a word.
                await probe.WaitForSignalsAsync(10);
                await _server.KillAsync();
                killed.SetResult();
            }
        });
        await killed.Task.WaitAsync(TestTimeouts.Default);
        await probe.WaitForStateAsync(ConnectionState.Reconnecting);
        await _server.RestartAsync();
        await publishing.WaitAsync(TimeSpan.FromSeconds(60));

        await AssertSawEveryVisibleSignalOnceAsync(probe, "alice");
        Assert.All(probe.Signals, s => Assert.Equal(Tier.Starter, s.MinTier));
        Assert.True(probe.States.Count(s => s.State == ConnectionState.Connected) >= 2);
    }

    [Fact]
    public async Task DroppedConnections_ResumeWithoutGapsOrRepeats()
    {
        await StartServerAsync();
        await _server.CreateUserAsync("bob", Password, "PROFESSIONAL");
        await using var proxy = new TcpProxy(_server.Port);
        var (client, probe, _) = NewClient(o => { o.ServerUri = proxy.Uri; o.Username = "bob"; o.Password = Password; });
        await client.StartAsync();

        var drops = 0;
        await PublishAsync("drop", 60, async (i, seq) =>
        {
            if (i % 15 == 0)
            {
                // Cut the TCP connection under a consumer that is up and current; the publisher carries on.
                await probe.WaitForStateAsync(ConnectionState.Connected, occurrence: drops + 1);
                await probe.WaitForSeqAsync(seq);
                proxy.DropAll();
                drops++;
            }
        });

        await AssertSawEveryVisibleSignalOnceAsync(probe, "bob");
        Assert.Equal(60, probe.Signals.Count); // PROFESSIONAL sees them all
        await probe.WaitForStateAsync(ConnectionState.Connected, occurrence: drops + 1);
    }

    [Fact]
    public async Task FrozenConnection_HeartbeatDeclaresItDead_AndResumes()
    {
        await StartServerAsync();
        await _server.CreateUserAsync("carol", Password, "STARTER");
        await using var proxy = new TcpProxy(_server.Port);
        var (client, probe, log) = NewClient(o =>
        {
            o.ServerUri = proxy.Uri;
            o.Username = "carol";
            o.Password = Password;
            o.HeartbeatInterval = TimeSpan.FromSeconds(2); // dead after 4 s of silence: a busy machine answers sooner
            o.ConnectTimeout = TimeSpan.FromSeconds(10); // the pooled HTTP connection froze too
        });
        await client.StartAsync();
        await PublishAsync("before", 6);
        await probe.WaitForSignalsAsync(4);

        proxy.FreezeAll(); // the socket stays open but nothing comes through: only a heartbeat can tell
        var reconnecting = await probe.NextStateAsync(ConnectionState.Reconnecting);
        Assert.Equal(DisconnectReason.HeartbeatTimeout, reconnecting.Cause!.Reason);
        await PublishAsync("after", 6);

        await AssertSawEveryVisibleSignalOnceAsync(probe, "carol");
        Assert.Equal(1, log.Count("HeartbeatTimeout"));
    }

    [Fact]
    public async Task TokenExpiry_ProviderRefreshesInBand_ConnectionOutlivesItsFirstToken()
    {
        // Tokens live 14 s; token_expiring comes 6 s before the end (time enough to refresh on a busy
        // machine); no clock skew grace. The second token's notice is due 14 - 2 * 6 = 2 s after the
        // first token's expiry (less a second for whole-second exp), so the server only sends it to a
        // connection that outlived its first token: a refresh that did not take closes it with 4001
        // at that expiry, and the third call is then a reconnect.
        await StartServerAsync("--Auth:TokenLifetime=00:00:14", "--Auth:ExpiryNotice=00:00:06", "--Auth:ClockSkew=00:00:00");
        await _server.CreateUserAsync("dave", Password, "STARTER");
        var calls = 0;
        var thirdToken = new TaskCompletionSource();
        var (client, probe, log) = NewClient(o => o.TokenProvider = async ct =>
        {
            var token = await _server.LoginAsync("dave", Password);
            if (Interlocked.Increment(ref calls) == 3)
                thirdToken.TrySetResult();
            return token;
        });
        await client.StartAsync();
        await PublishAsync("t1", 3);

        // Call 1 opened the connection; call 2 answered the first token_expiring (about 8 s in); call 3
        // answers the second (about 8 s later).
        await thirdToken.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await PublishAsync("t2", 3);

        await AssertSawEveryVisibleSignalOnceAsync(probe, "dave");
        Assert.Equal(1, probe.States.Count(s => s.State == ConnectionState.Connected));
        Assert.DoesNotContain(probe.States, s => s.State == ConnectionState.Reconnecting);
        Assert.True(log.Count("TokenRefreshing") >= 2);
    }

    [Fact]
    public async Task TokenExpiry_FixedToken_ServerCloses4001_ThenTheClientStopsAsUnauthorized()
    {
        // 12 s: time enough to connect and receive on a busy machine before the token runs out.
        await StartServerAsync("--Auth:TokenLifetime=00:00:12", "--Auth:ClockSkew=00:00:00");
        await _server.CreateUserAsync("erin", Password, "STARTER");
        var token = await _server.LoginAsync("erin", Password);
        var (client, probe, log) = NewClient(o => o.AccessToken = token);
        await client.StartAsync();
        await PublishAsync("fixed", 2);
        await probe.WaitForSignalsAsync(2);

        var ex = await Assert.ThrowsAsync<SignalStreamException>(async () =>
        {
            await foreach (var _ in client.ReadAllAsync().WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token))
            {
            }
        });
        Assert.True(ex.IsAuthenticationFailure);
        var reconnecting = probe.States.First(s => s.State == ConnectionState.Reconnecting);
        Assert.Equal(CloseCodes.TokenExpired, reconnecting.Cause!.CloseStatus);
        Assert.Equal(401, ex.Cause!.HttpStatusCode);
        Assert.Equal(1, log.Count("TokenNotRenewable"));
        Assert.DoesNotContain(log.Entries, e => e.Message.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RefusedUpgrades_PollTheRestList_ThenSwitchBackToTheSocket_EveryVisibleSignalOnceInOrder()
    {
        await StartServerAsync("--WebSockets:Enabled=false");
        await _server.CreateUserAsync("frank", Password, "STARTER");
        await PublishAsync("old", 4);
        var (client, probe, _) = NewClient(o =>
        {
            o.Username = "frank";
            o.Password = Password;
            o.ReconnectPolicy = new ExponentialBackoffReconnectPolicy(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1));
        });
        await client.StartAsync();
        Assert.Equal(ConnectionState.Polling, client.State);
        var polling = probe.States.First(s => s.State == ConnectionState.Polling);
        Assert.Equal(503, polling.Cause!.HttpStatusCode);

        await PublishAsync("polled", 9);
        await AssertSawEveryVisibleSignalOnceAsync(probe, "frank");

        // The operator turns WebSockets back on (a restart on the same port and data).
        await _server.KillAsync();
        await _server.RestartAsync("--WebSockets:Enabled=true");
        await probe.WaitForStateAsync(ConnectionState.Connected);
        await PublishAsync("live", 9);

        await AssertSawEveryVisibleSignalOnceAsync(probe, "frank");
        Assert.Equal(ConnectionState.Connected, client.State);
    }

    [Fact]
    public async Task HistoryTrimmed_ResyncRequired_CatchesUpFromTheRestList()
    {
        await StartServerAsync("--Storage:HistoryLimit=5");
        await _server.CreateUserAsync("gina", Password, "INSTITUTIONAL");
        await PublishAsync("h", 12);
        var token = await _server.LoginAsync("gina", Password);
        var inHistory = await _server.VisibleSeqsAsync(token); // 8..12: the rest was trimmed
        Assert.Equal(5, inHistory.Count);
        var resumed = new TaskCompletionSource<ResumedEventArgs>();
        var (client, probe, log) = NewClient(o => { o.Username = "gina"; o.Password = Password; o.AfterSeq = 1; });
        client.Resumed += (_, e) => { if (e.Source == ResumeSource.Rest) resumed.TrySetResult(e); };
        await client.StartAsync();

        var e = await resumed.Task.WaitAsync(TestTimeouts.Default);
        Assert.Equal(1, e.AfterSeq);
        var live = new List<long>();
        await PublishAsync("h-live", 3, (_, seq) => { live.Add(seq); return Task.CompletedTask; });
        // What history held when the client caught up, then everything live; trimmed signals are gone for everyone.
        await probe.WaitForSeqAsync(live[^1]);
        probe.AssertExactly(inHistory.Concat(live));
        Assert.Equal(1, log.Count("ResyncRequired"));
    }

    [Fact]
    public async Task StoreWipedUnderALiveClient_ClientGetsEveryNewSignal_NoneDroppedAsAlreadySeen()
    {
        await StartServerAsync();
        await _server.CreateUserAsync("ivy", Password, "INSTITUTIONAL");
        await using var proxy = new TcpProxy(_server.Port);
        var (client, probe, log) = NewClient(o => { o.ServerUri = proxy.Uri; o.Username = "ivy"; o.Password = Password; });
        await client.StartAsync();
        var oldEpoch = client.Epoch;
        Assert.False(string.IsNullOrEmpty(oldEpoch));
        await PublishAsync("before", 20);
        await probe.WaitForSignalsAsync(20);
        var before = probe.Signals.Select(s => s.ExternalId).ToList();

        // The operator stops the server, deletes its database and starts it again on the same port: a new history.
        proxy.RefuseNew = true; // the client keeps trying, and gets through only once the new history is past its old seq
        await _server.KillAsync();
        foreach (var file in Directory.GetFiles(_server.DataDirectory, "signals.db*"))
            File.Delete(file);
        await _server.RestartAsync();
        await _server.CreateUserAsync("ivy", Password, "INSTITUTIONAL");
        await PublishAsync("after", 25); // seqs 1..25: a client that trusted its old seq 20 would take only 21..25
        proxy.RefuseNew = false;
        await probe.WaitForSignalsAsync(20 + 25);
        await PublishAsync("live", 5);

        await probe.WaitForSignalsAsync(20 + 30);
        string[] expected = [.. before, .. Enumerable.Range(1, 25).Select(i => $"after-{i}"), .. Enumerable.Range(1, 5).Select(i => $"live-{i}")];
        Assert.Equal(expected, probe.Signals.Select(s => s.ExternalId));
        Assert.NotEqual(oldEpoch, client.Epoch);
        Assert.Equal(1, log.Count("HistoryChanged"));
    }

    [Fact]
    public async Task UserDisabled_ServerCloses4503_ClientStopsForGood()
    {
        await StartServerAsync();
        var userId = await _server.CreateUserAsync("hank", Password, "STARTER");
        var (client, probe, _) = NewClient(o => { o.Username = "hank"; o.Password = Password; });
        await client.StartAsync();

        await _server.UpdateUserAsync(userId, new JsonObject { ["disabled"] = true });
        await probe.WaitForStateAsync(ConnectionState.Disconnected);
        var last = probe.States[^1];
        Assert.Equal(CloseCodes.UserDisabled, last.Cause!.CloseStatus);
        Assert.DoesNotContain(probe.States, s => s.State == ConnectionState.Reconnecting);
    }
}
