using Microsoft.Extensions.Time.Testing;
using SignalStream.Client.Connection;
using SignalStream.Client.Tests.Infrastructure;
using SignalStream.Protocol;

namespace SignalStream.Client.Tests.Connection;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class ConnectionLoopTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch.AddDays(1));
    private readonly ClientPieces _pieces;
    private readonly ScriptedConnection _connection = new();
    private readonly CancellationTokenSource _stop = new();

    public ConnectionLoopTests() => _pieces = new ClientPieces(time: _time);

    public void Dispose() => _stop.Dispose();

    private ConnectionLoop Loop(IReconnectPolicy policy, IPollingFallback? fallback = null) =>
        new(_connection, fallback ?? new RecordingFallback(), policy, _pieces.Status, _time, _pieces.Log);

    /// <summary>A connection that reached welcome (as the dispatcher reports it) and then ended this way.</summary>
    private Func<ConnectionOutcome> Welcomed(ConnectionOutcome end) => () =>
    {
        _pieces.Status.MarkStarted();
        return end with { Welcomed = true };
    };

    private static ConnectionOutcome Closed(int code) => new(DisconnectReason.Closed, false, CloseStatus: code);

    private static ConnectionOutcome Failed => new(DisconnectReason.ConnectionFailed, false, Exception: new IOException("reset"));

    private Task<ConnectionStateChangedEventArgs> NextStateAsync(ConnectionState state)
    {
        var seen = new TaskCompletionSource<ConnectionStateChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pieces.Events.StateChanged += (_, e) => { if (e.State == state) seen.TrySetResult(e); };
        return seen.Task.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task RunAsync_FirstAttemptFails_GivesUpWithoutRetrying()
    {
        _connection.Then(Failed);
        var policy = new RecordingPolicy(_ => TimeSpan.Zero);

        var fatal = await Loop(policy).RunAsync(_stop.Token).WaitAsync(TestTimeouts.Default);

        var ex = Assert.IsType<SignalStreamException>(fatal);
        Assert.StartsWith("Could not connect", ex.Message, StringComparison.Ordinal);
        Assert.Equal(DisconnectReason.ConnectionFailed, ex.Cause!.Reason);
        Assert.Single(_connection.Attempts);
        Assert.Empty(policy.Contexts);
        Assert.Equal([ConnectionState.Connecting, ConnectionState.Disconnected], _pieces.States.Select(s => s.State));
        await Assert.ThrowsAsync<SignalStreamException>(() => _pieces.Status.Started);
    }

    [Fact]
    public async Task RunAsync_GoodConnectionLost_WaitsThePolicyDelayOnTheClock_ThenReconnects()
    {
        _connection.Then(Welcomed(Closed(CloseCodes.InternalError)));
        var policy = new RecordingPolicy(_ => TimeSpan.FromSeconds(5));
        var reconnecting = NextStateAsync(ConnectionState.Reconnecting);
        var run = Loop(policy).RunAsync(_stop.Token);

        var e = await reconnecting;
        Assert.Equal(TimeSpan.FromSeconds(5), e.RetryDelay);
        Assert.Equal(CloseCodes.InternalError, e.Cause!.CloseStatus);
        Assert.Equal(0, e.Cause.PreviousRetryCount);
        await _connection.NextAttemptAsync();

        _time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        Assert.Single(_connection.Attempts);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(await _connection.NextAttemptAsync()); // the second attempt, with the cached token

        await _stop.CancelAsync();
        Assert.Null(await run.WaitAsync(TestTimeouts.Default));
        Assert.Equal(ConnectionState.Disconnected, _pieces.Status.State);
    }

    [Fact]
    public async Task RunAsync_FailedAttempts_CountUpUntilAGoodConnectionResetsThem()
    {
        _connection.Then(Welcomed(Closed(CloseCodes.InternalError))).Then(Failed).Then(Failed).Then(Welcomed(Closed(CloseCodes.InternalError))).Then(Failed);
        var policy = new RecordingPolicy(_ => TimeSpan.Zero);
        var run = Loop(policy).RunAsync(_stop.Token);
        for (var i = 0; i < 6; i++)
            await _connection.NextAttemptAsync();
        await _stop.CancelAsync();
        await run.WaitAsync(TestTimeouts.Default);

        Assert.Equal([0, 1, 2, 0, 1], policy.Contexts.Select(c => c.PreviousRetryCount));
    }

    [Fact]
    public async Task RunAsync_CachedTokenRefused_RetriesAtOnceWithANewToken()
    {
        _connection.Then(new ConnectionOutcome(DisconnectReason.Unauthorized, false, HttpStatus: 401, StaleToken: true));
        var policy = new RecordingPolicy(_ => null);
        var run = Loop(policy).RunAsync(_stop.Token);

        Assert.False(await _connection.NextAttemptAsync());
        Assert.True(await _connection.NextAttemptAsync());
        Assert.Empty(policy.Contexts);
        await _stop.CancelAsync();
        await run.WaitAsync(TestTimeouts.Default);
    }

    [Theory]
    [InlineData(CloseCodes.TokenExpired, true)]
    [InlineData(CloseCodes.InternalError, false)]
    public async Task RunAsync_AfterAClose_AsksForANewTokenOnlyWhenTheTokenExpired(int code, bool forceNew)
    {
        _connection.Then(Welcomed(Closed(code)));
        var run = Loop(new RecordingPolicy(_ => TimeSpan.Zero)).RunAsync(_stop.Token);
        await _connection.NextAttemptAsync();
        Assert.Equal(forceNew, await _connection.NextAttemptAsync());
        await _stop.CancelAsync();
        await run.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task RunAsync_PolicyStopsAfterANormalClose_EndsWithoutAnError()
    {
        _connection.Then(Welcomed(Closed(CloseCodes.Normal)));
        var fatal = await Loop(new RecordingPolicy(_ => null)).RunAsync(_stop.Token).WaitAsync(TestTimeouts.Default);
        Assert.Null(fatal);
        Assert.Equal(ConnectionState.Disconnected, _pieces.Status.State);
        Assert.Equal(1, _pieces.Log.Count("ReconnectStopped"));
    }

    [Fact]
    public async Task RunAsync_PolicyStopsAfterAnyOtherClose_EndsWithTheCause()
    {
        _connection.Then(Welcomed(Closed(CloseCodes.UserDisabled)));
        var fatal = await Loop(new RecordingPolicy(_ => null)).RunAsync(_stop.Token).WaitAsync(TestTimeouts.Default);
        var ex = Assert.IsType<SignalStreamException>(fatal);
        Assert.Equal(CloseCodes.UserDisabled, ex.Cause!.CloseStatus);
        Assert.True(ex.IsAuthenticationFailure);
        Assert.Equal(CloseCodes.UserDisabled, _pieces.States[^1].Cause!.CloseStatus);
    }

    [Fact]
    public async Task RunAsync_UpgradeRefusedAtStart_WaitsTheDelayInThePollingFallback()
    {
        var refused = new ConnectionOutcome(DisconnectReason.UpgradeRefused, false, HttpStatus: 503);
        _connection.Then(refused).Then(refused);
        var fallback = new RecordingFallback();
        var run = Loop(new RecordingPolicy(_ => TimeSpan.FromSeconds(7)), fallback).RunAsync(_stop.Token);

        var call = await fallback.NextCallAsync();
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(7), call.Due);
        Assert.Equal(TimeSpan.FromSeconds(7), call.Delay);
        Assert.Equal(503, call.Cause.HttpStatusCode);
        await fallback.NextCallAsync(); // not fatal although nothing started: the fallback may still deliver
        Assert.DoesNotContain(_pieces.States, s => s.State == ConnectionState.Reconnecting);
        Assert.Single(_pieces.States, s => s.State == ConnectionState.Connecting); // once: polling is not starting over

        await _stop.CancelAsync();
        await run.WaitAsync(TestTimeouts.Default);
    }

    [Fact]
    public async Task RunAsync_FallbackGivesUp_EndsWithItsError()
    {
        _connection.Then(new ConnectionOutcome(DisconnectReason.UpgradeRefused, false, HttpStatus: 503));
        var refusal = new SignalStreamException("REST refused");
        var fatal = await Loop(new RecordingPolicy(_ => TimeSpan.Zero), new RecordingFallback(_ => refusal)).RunAsync(_stop.Token).WaitAsync(TestTimeouts.Default);
        Assert.Same(refusal, fatal);
    }

    [Fact]
    public async Task RunAsync_Stopped_EndsWithoutAnErrorAndFailsAPendingStart()
    {
        var run = Loop(new RecordingPolicy(_ => TimeSpan.Zero)).RunAsync(_stop.Token);
        await _connection.NextAttemptAsync();
        await _stop.CancelAsync();
        Assert.Null(await run.WaitAsync(TestTimeouts.Default));
        var ex = await Assert.ThrowsAsync<SignalStreamException>(() => _pieces.Status.Started);
        Assert.Contains("stopped before it connected", ex.Message, StringComparison.Ordinal);
    }
}
