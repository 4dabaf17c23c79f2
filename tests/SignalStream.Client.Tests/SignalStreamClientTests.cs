using Microsoft.Extensions.Time.Testing;
using SignalStream.Client.Tests.Infrastructure;
using SignalStream.Protocol;

namespace SignalStream.Client.Tests;

/// <summary>
/// The client against a scripted server on a real loopback socket: every frame the client sees is
/// chosen by the test, so resume, de-duplication, resync, the offline queue, heartbeats, refresh and
/// polling are checked exactly.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Functional)]
public sealed class SignalStreamClientTests : IAsyncLifetime
{
    private FakeSignalServer _server = null!;
    private readonly List<SignalStreamClient> _clients = [];

    public async Task InitializeAsync() => _server = await FakeSignalServer.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
            await client.DisposeAsync();
        await _server.DisposeAsync();
    }

    private static IReconnectPolicy Fast => new ExponentialBackoffReconnectPolicy(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(100));

    private (SignalStreamClient Client, ClientProbe Probe) NewClient(Action<SignalStreamClientOptions>? configure = null, TestLogger? logger = null)
    {
        var options = new SignalStreamClientOptions
        {
            ServerUri = _server.Uri,
            AccessToken = "fixed-token",
            ReconnectPolicy = Fast,
            PollingInterval = TimeSpan.FromMilliseconds(50),
        };
        configure?.Invoke(options);
        var client = new SignalStreamClient(options, logger);
        _clients.Add(client);
        return (client, new ClientProbe(client));
    }

    /// <summary>Starts the client while the test plays the server's first frames.</summary>
    private async Task<FakeConnection> StartAndAcceptAsync(SignalStreamClient client, long lastSeq = 0, int heartbeatMs = 30_000)
    {
        var start = client.StartAsync();
        var connection = await _server.NextConnectionAsync();
        await connection.SendWelcomeAsync(lastSeq, heartbeatMs);
        await start.WaitAsync(TestTimeouts.Default);
        return connection;
    }

    [Fact]
    public async Task StartAsync_SendsBearerHeader_AndDeliversLiveSignals()
    {
        var (client, probe) = NewClient();
        var connection = await StartAndAcceptAsync(client, lastSeq: 5);

        Assert.Equal("Bearer fixed-token", connection.Authorization);
        Assert.Null(connection.AfterSeq); // a fresh start without AfterSeq is live-only
        Assert.Equal(ConnectionState.Connected, client.State);
        Assert.Equal(5, client.LastSeq);

        await connection.SendSignalsAsync(5, 6, 7); // 5 was stored before we connected: not new
        await probe.WaitForSeqAsync(7);
        probe.AssertExactly([6, 7]);
    }

    [Fact]
    public async Task ReadAllAsync_YieldsTheSameSignalsAsTheEvent_AndEndsOnStop()
    {
        var (client, probe) = NewClient(o => o.AfterSeq = 0);
        var connection = await StartAndAcceptAsync(client);
        await connection.SendSignalsAsync(1, 2, 3);
        await probe.WaitForSignalsAsync(3);

        var read = new List<long>();
        var reader = Task.Run(async () =>
        {
            await foreach (var signal in client.ReadAllAsync())
                read.Add(signal.Seq);
        });
        await client.StopAsync();
        await reader.WaitAsync(TestTimeouts.Default);

        Assert.Equal([1, 2, 3], read);
        Assert.Equal(ConnectionState.Disconnected, client.State);
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, await WaitForClientClose(connection));
    }

    private static async Task<System.Net.WebSockets.WebSocketCloseStatus?> WaitForClientClose(FakeConnection connection)
    {
        await connection.Completion.WaitAsync(TestTimeouts.Default);
        return connection.ClientCloseStatus;
    }

    [Fact]
    public async Task Receive_UnreadableFrames_AreLoggedAndSkipped()
    {
        var logger = new TestLogger();
        var (client, probe) = NewClient(o => o.AfterSeq = 0, logger);
        var connection = await StartAndAcceptAsync(client);

        await connection.SendAsync("this is not json");
        await connection.SendAsync("""{"no_type":true}""");
        await connection.SendAsync("""{"type":"tier_changed","tier":"PLATINUM"}""");
        await connection.SendAsync("""{"type":"signal","seq":1}""");
        await connection.SendBinaryAsync([1, 2, 3]);
        await connection.SendAsync("""{"type":"from_the_future","x":1}""");
        await connection.SendSignalsAsync(1);
        await connection.SendAsync("""{"type":"error","code":"invalid_json","message":"nope"}""");
        await connection.SendSignalsAsync(2);

        await probe.WaitForSeqAsync(2);
        probe.AssertExactly([1, 2]);
        Assert.Equal(5, logger.Count("InvalidFrame"));
        Assert.Equal(1, logger.Count("UnknownFrame"));
        Assert.Equal(1, logger.Count("ServerError"));
        Assert.Equal(ConnectionState.Connected, client.State);
        Assert.DoesNotContain(logger.Entries, e => e.Message.Contains("fixed-token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reconnect_ResumesAfterLastSeq_AndDropsReplayedDuplicates()
    {
        var (client, probe) = NewClient(o => o.AfterSeq = 0);
        var first = await StartAndAcceptAsync(client);
        Assert.Equal(0, first.AfterSeq);
        await first.SendSignalsAsync(1, 2, 3);
        await probe.WaitForSeqAsync(3);
        await first.CloseAsync(CloseCodes.InternalError, "boom");

        var second = await _server.NextConnectionAsync();
        Assert.Equal(3, second.AfterSeq);
        await second.SendWelcomeAsync(5);
        await second.SendSignalsAsync(2, 3, 4, 5); // an overlapping replay
        await second.SendReplayCompleteAsync(4, 5, 2);
        await second.SendSignalsAsync(5, 6);      // and a live duplicate
        await probe.WaitForSeqAsync(6);

        second.Abort(); // a dropped TCP connection, no close frame
        var third = await _server.NextConnectionAsync();
        Assert.Equal(6, third.AfterSeq);
        await third.SendWelcomeAsync(7);
        await third.SendSignalsAsync(7);
        await probe.WaitForSeqAsync(7);

        probe.AssertExactly([1, 2, 3, 4, 5, 6, 7]);
        var reconnects = probe.States.Where(s => s.State == ConnectionState.Reconnecting).ToList();
        Assert.Equal(2, reconnects.Count);
        Assert.Equal(CloseCodes.InternalError, reconnects[0].Cause!.CloseStatus);
        Assert.Equal(DisconnectReason.ConnectionFailed, reconnects[1].Cause!.Reason);
    }

    [Fact]
    public async Task ResyncRequired_FetchesTheGapFromRestPageByPage_ThenCarriesOnLive()
    {
        _server.Add(1, 2, 3, 4, 5, 6, 7);
        var (client, probe) = NewClient(o => { o.AfterSeq = 0; o.PageSize = 2; });
        var resumed = new TaskCompletionSource<ResumedEventArgs>();
        client.Resumed += (_, e) => resumed.TrySetResult(e);
        var connection = await StartAndAcceptAsync(client, lastSeq: 7);

        await connection.SendAsync("""{"type":"resync_required","reason":"history_truncated","oldest_seq":6}""");
        await connection.SendSignalsAsync(6, 7, 8); // live frames queued behind the resync
        await probe.WaitForSeqAsync(8);

        probe.AssertExactly([1, 2, 3, 4, 5, 6, 7, 8]);
        var e = await resumed.Task.WaitAsync(TestTimeouts.Default);
        Assert.Equal(ResumeSource.Rest, e.Source);
        Assert.Equal(0, e.AfterSeq);
        Assert.Equal(7, e.Count);
        Assert.Equal(
            ["?limit=2&after_seq=0", "?limit=2&after_seq=2", "?limit=2&after_seq=4", "?limit=2&after_seq=6"],
            _server.ListRequests.ToArray());
    }

    [Fact]
    public async Task ResyncRequired_WithSymbolFilter_DeliversOnlyThoseSymbolsFromRest()
    {
        _server.Store[1] = FakeSignalServer.MakeSignal(1, "ETH-USD");
        _server.Store[2] = FakeSignalServer.MakeSignal(2, "BTC-USD");
        _server.Store[3] = FakeSignalServer.MakeSignal(3, "ETH-USD");
        var (client, probe) = NewClient(o => { o.AfterSeq = 0; o.Symbols = ["ETH-USD"]; });
        var connection = await StartAndAcceptAsync(client, lastSeq: 3);
        Assert.Equal("ETH-USD", connection.Query["symbols"]);

        await connection.SendAsync("""{"type":"resync_required","reason":"gap","oldest_seq":3}""");
        await probe.WaitForSeqAsync(3);
        probe.AssertExactly([1, 3]);
        Assert.Equal(3, client.LastSeq);
    }

    [Fact]
    public async Task OfflineQueue_MessagesSentWhileDisconnected_GoOutInOrderAfterReconnect()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (client, probe) = NewClient(o =>
        {
            o.AfterSeq = 0;
            o.TimeProvider = time;
            o.ReconnectPolicy = new ExponentialBackoffReconnectPolicy(random: () => 1);
        });
        var first = await StartAndAcceptAsync(client);
        await first.CloseAsync(CloseCodes.InternalError);
        var reconnecting = await probe.NextStateAsync(ConnectionState.Reconnecting);
        Assert.Equal(TimeSpan.FromSeconds(3), reconnecting.RetryDelay);

        // Offline: these wait in the queue.
        await client.SubscribeAsync(["ETH-USD", "SOL-USD"]);
        await client.PingAsync();
        await client.SubscribeAsync(["ETH-USD"]);
        Assert.Equal(3, client.QueuedMessageCount);

        time.Advance(TimeSpan.FromSeconds(3));
        var second = await _server.NextConnectionAsync();
        Assert.Equal("ETH-USD", second.Query["symbols"]); // the new filter applies from the first frame
        await second.SendWelcomeAsync(0);

        var m1 = await second.ReceiveTypeAsync(MessageTypes.Subscribe);
        Assert.Equal(["ETH-USD", "SOL-USD"], m1.GetProperty("symbols").EnumerateArray().Select(x => x.GetString()!).ToArray());
        var m2 = await second.ReceiveAsync();
        Assert.Contains("\"type\":\"ping\"", m2, StringComparison.Ordinal);
        var m3 = await second.ReceiveTypeAsync(MessageTypes.Subscribe);
        Assert.Equal(["ETH-USD"], m3.GetProperty("symbols").EnumerateArray().Select(x => x.GetString()!).ToArray());
        Assert.Equal(0, client.QueuedMessageCount);

        // Online again: sent at once.
        await client.SubscribeAsync([]);
        var m4 = await second.ReceiveTypeAsync(MessageTypes.Subscribe);
        Assert.Equal(0, m4.GetProperty("symbols").GetArrayLength());
    }

    [Fact]
    public async Task OfflineQueue_IsBounded_DroppingTheOldest()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logger = new TestLogger();
        var (client, probe) = NewClient(o =>
        {
            o.AfterSeq = 0;
            o.TimeProvider = time;
            o.OfflineQueueCapacity = 2;
            o.ReconnectPolicy = new ExponentialBackoffReconnectPolicy(random: () => 1);
        }, logger);
        var first = await StartAndAcceptAsync(client);
        await first.CloseAsync(CloseCodes.InternalError);
        await probe.NextStateAsync(ConnectionState.Reconnecting);

        await client.SubscribeAsync(["A"]);
        await client.SubscribeAsync(["B"]);
        await client.SubscribeAsync(["C"]);
        Assert.Equal(2, client.QueuedMessageCount);
        Assert.Equal(1, logger.Count("OfflineQueueOverflow"));

        time.Advance(TimeSpan.FromSeconds(3));
        var second = await _server.NextConnectionAsync();
        await second.SendWelcomeAsync(0);
        Assert.Equal("B", (await second.ReceiveTypeAsync(MessageTypes.Subscribe)).GetProperty("symbols")[0].GetString());
        Assert.Equal("C", (await second.ReceiveTypeAsync(MessageTypes.Subscribe)).GetProperty("symbols")[0].GetString());
    }

    [Fact]
    public async Task Heartbeat_NoFrameForTwoIntervals_TreatsTheConnectionAsDeadAndReconnects()
    {
        var (client, probe) = NewClient(o => { o.AfterSeq = 0; o.HeartbeatInterval = TimeSpan.FromMilliseconds(150); });
        var silent = await StartAndAcceptAsync(client);

        var ping = await silent.ReceiveTypeAsync(MessageTypes.Ping); // the client pings every interval
        Assert.True(ping.GetProperty("ts").GetDouble() > 0);
        var reconnecting = await probe.NextStateAsync(ConnectionState.Reconnecting);
        Assert.Equal(DisconnectReason.HeartbeatTimeout, reconnecting.Cause!.Reason);

        var next = await _server.NextConnectionAsync();
        await next.SendWelcomeAsync(0);
        await probe.WaitForStateAsync(ConnectionState.Connected, occurrence: 2);
    }

    [Fact]
    public async Task Heartbeat_ServerAnswersPongs_ConnectionStays()
    {
        // 1 s: the test's pong has about that long to arrive, however busy the machine.
        var (client, probe) = NewClient(o => { o.AfterSeq = 0; o.HeartbeatInterval = TimeSpan.FromSeconds(1); });
        var connection = await StartAndAcceptAsync(client);

        // Answer six pings with pongs: that spans three dead-connection windows.
        for (var i = 0; i < 6; i++)
        {
            var ping = await connection.ReceiveTypeAsync(MessageTypes.Ping);
            await connection.SendAsync($$"""{"type":"pong","ts":{{ping.GetProperty("ts").GetDouble()}}}""");
        }
        Assert.Equal(ConnectionState.Connected, client.State);
        Assert.Equal(1, _server.UpgradeAttempts);
        Assert.DoesNotContain(probe.States, s => s.State == ConnectionState.Reconnecting);
    }

    [Fact]
    public async Task TokenExpiring_AsksTheProviderAgain_AndRefreshesInBand()
    {
        var calls = 0;
        var (client, probe) = NewClient(o =>
        {
            o.AccessToken = null;
            o.TokenProvider = _ => ValueTask.FromResult("provided-" + Interlocked.Increment(ref calls));
        });
        var connection = await StartAndAcceptAsync(client);
        Assert.Equal("Bearer provided-1", connection.Authorization);

        await connection.SendAsync("""{"type":"token_expiring","expires_at":"2030-01-01T00:00:00.000Z"}""");
        var refresh = await connection.ReceiveTypeAsync(MessageTypes.Refresh);
        Assert.Equal("provided-2", refresh.GetProperty("token").GetString());

        // After 4001 the next connection asks the provider again.
        await connection.CloseAsync(CloseCodes.TokenExpired, "token expired");
        var next = await _server.NextConnectionAsync();
        Assert.Equal("Bearer provided-3", next.Authorization);
        await next.SendWelcomeAsync(0);
        await probe.WaitForStateAsync(ConnectionState.Connected, occurrence: 2);
    }

    [Fact]
    public async Task UsernamePassword_LogsInForTheBearerToken()
    {
        var (client, _) = NewClient(o => { o.AccessToken = null; o.Username = "alice"; o.Password = "secret"; });
        var connection = await StartAndAcceptAsync(client);
        Assert.Equal("Bearer login-token-1", connection.Authorization);
        Assert.Equal(1, _server.Logins);
    }

    [Fact]
    public async Task UsernamePassword_CachedTokenRefused_LogsInAgainAtOnce()
    {
        var (client, probe) = NewClient(o => { o.AccessToken = null; o.Username = "alice"; o.Password = "secret"; });
        var first = await StartAndAcceptAsync(client);
        // The server forgets the first token (say its signing key rotated) and drops the connection.
        _server.RefuseUpgrade = ctx => ctx.Request.Headers.Authorization == "Bearer login-token-1" ? 401 : null;
        await first.CloseAsync(CloseCodes.InternalError);

        var second = await _server.NextConnectionAsync();
        Assert.Equal("Bearer login-token-2", second.Authorization);
        await second.SendWelcomeAsync(0);
        await probe.WaitForStateAsync(ConnectionState.Connected, occurrence: 2);
        Assert.Equal(2, _server.Logins);
    }

    [Fact]
    public async Task StartAsync_WrongPassword_ThrowsAnAuthenticationFailure()
    {
        var (client, probe) = NewClient(o => { o.AccessToken = null; o.Username = "alice"; o.Password = "wrong"; });
        var ex = await Assert.ThrowsAsync<SignalStreamException>(() => client.StartAsync());
        Assert.True(ex.IsAuthenticationFailure);
        Assert.Equal(0, _server.UpgradeAttempts);
        Assert.Equal(ConnectionState.Disconnected, client.State);
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public async Task StartAsync_UpgradeRefusedForCredentials_ThrowsWithoutRetrying(int status)
    {
        _server.RefuseUpgrade = _ => status;
        var (client, _) = NewClient();
        var ex = await Assert.ThrowsAsync<SignalStreamException>(() => client.StartAsync());
        Assert.True(ex.IsAuthenticationFailure);
        Assert.Equal(status, ex.Cause!.HttpStatusCode);
        Assert.Equal(1, _server.UpgradeAttempts);
    }

    [Fact]
    public async Task StartAsync_NothingListening_Throws()
    {
        var port = FreePort();
        var client = new SignalStreamClient(new SignalStreamClientOptions { ServerUri = new Uri($"http://127.0.0.1:{port}"), AccessToken = "t" });
        _clients.Add(client);
        var ex = await Assert.ThrowsAsync<SignalStreamException>(() => client.StartAsync());
        Assert.False(ex.IsAuthenticationFailure);
        Assert.Equal(DisconnectReason.ConnectionFailed, ex.Cause!.Reason);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Theory]
    [InlineData(CloseCodes.UserDisabled, true)]
    [InlineData(CloseCodes.TokenInvalid, true)]
    [InlineData(CloseCodes.BinaryNotSupported, false)]
    public async Task Close_DoNotReconnectCodes_StopAndFailTheReader(int code, bool authFailure)
    {
        var (client, probe) = NewClient(o => o.AfterSeq = 0);
        var connection = await StartAndAcceptAsync(client);
        await connection.SendSignalsAsync(1);
        await connection.CloseAsync(code, "bye");

        var read = new List<long>();
        var ex = await Assert.ThrowsAsync<SignalStreamException>(async () =>
        {
            await foreach (var signal in client.ReadAllAsync().WithCancellation(new CancellationTokenSource(TestTimeouts.Default).Token))
                read.Add(signal.Seq);
        });
        Assert.Equal([1], read);
        Assert.Equal(authFailure, ex.IsAuthenticationFailure);
        Assert.Equal(code, ex.Cause!.CloseStatus);
        await probe.WaitForStateAsync(ConnectionState.Disconnected);
        Assert.Equal(1, _server.UpgradeAttempts);
    }

    [Fact]
    public async Task Close_Normal_StopsAndCompletesTheReader()
    {
        var (client, probe) = NewClient(o => o.AfterSeq = 0);
        var connection = await StartAndAcceptAsync(client);
        await connection.CloseAsync(CloseCodes.Normal);
        await foreach (var _ in client.ReadAllAsync().WithCancellation(new CancellationTokenSource(TestTimeouts.Default).Token))
        {
        }
        Assert.Equal(ConnectionState.Disconnected, client.State);
    }

    [Fact]
    public async Task Close_GoingAway_ReconnectsAtOnceWithJitter()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (client, probe) = NewClient(o =>
        {
            o.AfterSeq = 0;
            o.TimeProvider = time;
            o.ReconnectPolicy = new ExponentialBackoffReconnectPolicy(random: () => 0.5);
        });
        var connection = await StartAndAcceptAsync(client);
        await connection.SendSignalsAsync(1);
        await probe.WaitForSeqAsync(1);
        await connection.CloseAsync(CloseCodes.GoingAway, "shutting down");

        var reconnecting = await probe.NextStateAsync(ConnectionState.Reconnecting);
        Assert.Equal(TimeSpan.FromMilliseconds(500), reconnecting.RetryDelay); // half of the 1 s jitter, not 3 s backoff
        time.Advance(TimeSpan.FromMilliseconds(500));
        var next = await _server.NextConnectionAsync();
        Assert.Equal(1, next.AfterSeq);
    }

    [Fact]
    public async Task Backoff_UnderFakeTime_FollowsThePolicyExactly()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (client, probe) = NewClient(o =>
        {
            o.AfterSeq = 0;
            o.TimeProvider = time;
            o.ReconnectPolicy = new ExponentialBackoffReconnectPolicy(random: () => 1); // the ceiling every time
        });
        var connection = await StartAndAcceptAsync(client);
        _server.RefuseUpgrade = _ => 429; // every reconnect fails (not an upgrade refusal: no polling)
        await connection.CloseAsync(CloseCodes.InternalError);

        var expected = new[] { 3, 6, 12, 24, 30, 30 };
        var previous = (DateTimeOffset?)null;
        for (var i = 0; i < expected.Length; i++)
        {
            var e = await probe.NextStateAsync(ConnectionState.Reconnecting);
            Assert.Equal(TimeSpan.FromSeconds(expected[i]), e.RetryDelay);
            Assert.Equal(i, e.Cause!.PreviousRetryCount);
            if (previous is { } p)
                Assert.Equal(TimeSpan.FromSeconds(expected[i - 1]), e.Timestamp - p); // waited the full delay, no more
            previous = e.Timestamp;
            Assert.Equal(1 + i, _server.UpgradeAttempts);

            // Just short of the delay nothing happens; the last tick starts the next attempt.
            time.Advance(e.RetryDelay!.Value - TimeSpan.FromMilliseconds(1));
            Assert.Equal(1 + i, _server.UpgradeAttempts);
            time.Advance(TimeSpan.FromMilliseconds(1));
        }
        await probe.NextStateAsync(ConnectionState.Reconnecting);
        Assert.Equal(1 + expected.Length, _server.UpgradeAttempts);
    }

    [Fact]
    public async Task UpgradeRefused_PollsTheRestList_ThenSwitchesBackWithoutGapOrRepeat()
    {
        var refuse = true;
        _server.RefuseUpgrade = _ => Volatile.Read(ref refuse) ? 503 : null;
        _server.Add(1, 2);
        var (client, probe) = NewClient(o =>
        {
            o.AfterSeq = 0;
            o.ReconnectPolicy = new ExponentialBackoffReconnectPolicy(TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(300), random: () => 1);
        });

        await client.StartAsync().WaitAsync(TestTimeouts.Default);
        Assert.Equal(ConnectionState.Polling, client.State);
        await probe.WaitForSeqAsync(2);
        _server.Add(3, 4);
        await probe.WaitForSeqAsync(4);
        var polling = probe.States.First(s => s.State == ConnectionState.Polling);
        Assert.Equal(DisconnectReason.UpgradeRefused, polling.Cause!.Reason);
        Assert.Equal(503, polling.Cause.HttpStatusCode);

        // The socket comes back: the client resumes after what it polled, and the overlap is dropped.
        Volatile.Write(ref refuse, false);
        var connection = await _server.NextConnectionAsync();
        Assert.Equal(4, connection.AfterSeq);
        await connection.SendWelcomeAsync(4);
        await connection.SendSignalsAsync(3, 4, 5);
        _server.Add(5, 6);
        await connection.SendSignalsAsync(6);
        await probe.WaitForSeqAsync(6);

        probe.AssertExactly([1, 2, 3, 4, 5, 6]);
        Assert.Equal(ConnectionState.Connected, client.State);
    }

    [Fact]
    public async Task UpgradeRefused_FreshStartWithoutAfterSeq_PollsFromTheNewestSignal()
    {
        _server.RefuseUpgrade = _ => 502;
        _server.Add(1, 2, 3);
        var (client, probe) = NewClient();
        await client.StartAsync().WaitAsync(TestTimeouts.Default);
        Assert.Equal(3, client.LastSeq);
        _server.Add(4);
        await probe.WaitForSeqAsync(4);
        probe.AssertExactly([4]);
        Assert.Contains("?limit=1", _server.ListRequests);
    }

    [Fact]
    public async Task TierChanged_IsReported()
    {
        var (client, _) = NewClient();
        var tiers = new List<Tier>();
        client.TierChanged += (_, e) => tiers.Add(e.Tier);
        var connection = await StartAndAcceptAsync(client);
        var changed = new TaskCompletionSource();
        client.TierChanged += (_, e) => { if (e.Tier == Tier.Institutional) changed.TrySetResult(); };
        await connection.SendAsync("""{"type":"tier_changed","tier":"INSTITUTIONAL"}""");
        await changed.Task.WaitAsync(TestTimeouts.Default);
        Assert.Equal([Tier.Starter, Tier.Institutional], tiers);
        Assert.Equal(Tier.Institutional, client.Tier);
    }

    [Fact]
    public async Task EventHandlerThatThrows_DoesNotStopTheStream()
    {
        var logger = new TestLogger();
        var (client, probe) = NewClient(o => o.AfterSeq = 0, logger);
        client.SignalReceived += (_, _) => throw new InvalidOperationException("handler bug");
        var connection = await StartAndAcceptAsync(client);
        await connection.SendSignalsAsync(1, 2);
        await probe.WaitForSeqAsync(2);
        probe.AssertExactly([1, 2]);
        Assert.Equal(2, logger.Count("HandlerFailed"));
    }

    [Fact]
    public async Task ReaderBuffer_Disabled_ReadAllAsyncThrows()
    {
        var (client, _) = NewClient(o => o.ReaderBufferCapacity = 0);
        Assert.Throws<InvalidOperationException>(() => client.ReadAllAsync());
        await Task.CompletedTask;
    }

    [Fact]
    public async Task StartAsync_Twice_Throws()
    {
        var (client, _) = NewClient();
        await StartAndAcceptAsync(client);
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.StartAsync());
    }

    [Fact]
    public async Task OversizedFrame_ClosesAndReconnects()
    {
        var (client, probe) = NewClient(o => { o.AfterSeq = 0; o.MaxFrameBytes = 2048; });
        var connection = await StartAndAcceptAsync(client);
        await connection.SendAsync("{\"type\":\"pong\",\"pad\":\"" + new string('x', 4096) + "\"}");
        var reconnecting = await probe.NextStateAsync(ConnectionState.Reconnecting);
        Assert.IsType<InvalidDataException>(reconnecting.Cause!.Exception);
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.MessageTooBig, await WaitForClientClose(connection));
    }
}
