using System.Net;
using Microsoft.Extensions.Time.Testing;
using SignalStream.Client.Delivery;
using SignalStream.Client.Rest;
using SignalStream.Client.Tests.Infrastructure;
using SignalStream.Client.Transport;

namespace SignalStream.Client.Tests.Transport;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class PollingFallbackTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch.AddDays(1));
    private readonly FakeSignalList _list = new();
    private readonly ClientPieces _pieces;
    private readonly ReconnectContext _refused = new(0, TimeSpan.Zero, DisconnectReason.UpgradeRefused, HttpStatusCode: 503);

    public PollingFallbackTests() => _pieces = new ClientPieces(afterSeq: 0, time: _time);

    private PollingFallback Fallback() =>
        new(new RestCatchUp(_list, _pieces.Resume, _pieces.Delivery, 500, _pieces.Log), _pieces.Resume, _pieces.Status, Interval, _time, _pieces.Log);

    [Fact]
    public async Task PollUntilAsync_PollsAtOnceAndEveryInterval_UntilTheSocketIsDue()
    {
        _list.Add(1, 2);
        var run = Fallback().PollUntilAsync(_time.GetUtcNow() + TimeSpan.FromSeconds(5), _refused, TimeSpan.FromSeconds(5), CancellationToken.None);

        await _list.NextRequestAsync();
        Assert.Equal([1, 2], _pieces.Delivered);
        var polling = Assert.Single(_pieces.States);
        Assert.Equal((ConnectionState.Polling, TimeSpan.FromSeconds(5), 503), (polling.State, polling.RetryDelay!.Value, polling.Cause!.HttpStatusCode!.Value));
        Assert.True(_pieces.Status.HasStarted);
        Assert.Equal(1, _pieces.Log.Count("PollingStarted"));

        _list.Add(3);
        _time.Advance(Interval);
        Assert.Equal(2L, (await _list.NextRequestAsync()).AfterSeq);
        _time.Advance(Interval);
        await _list.NextRequestAsync();
        Assert.False(run.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1)); // the last, shorter wait ends at the due time
        await _list.NextRequestAsync();
        Assert.Null(await run.WaitAsync(TestTimeouts.Default));
        Assert.Equal([1, 2, 3], _pieces.Delivered);
        Assert.Equal(4, _list.Requests.Count);
    }

    [Fact]
    public async Task PollUntilAsync_CredentialsRefused_StopsTheClient()
    {
        _list.Failure = new UnauthorizedException(401, "no");
        var fatal = await Fallback().PollUntilAsync(_time.GetUtcNow() + Interval, _refused, Interval, CancellationToken.None).WaitAsync(TestTimeouts.Default);
        var ex = Assert.IsType<SignalStreamException>(fatal);
        Assert.True(ex.IsAuthenticationFailure);
        Assert.Equal(401, ex.Cause!.HttpStatusCode);
    }

    [Fact]
    public async Task PollUntilAsync_FailsBeforeEverStarting_StopsTheClient()
    {
        _list.Failure = new HttpRequestException("down", null, HttpStatusCode.BadGateway);
        var fatal = await Fallback().PollUntilAsync(_time.GetUtcNow() + Interval, _refused, Interval, CancellationToken.None).WaitAsync(TestTimeouts.Default);
        Assert.StartsWith("Could not connect", Assert.IsType<SignalStreamException>(fatal).Message, StringComparison.Ordinal);
        Assert.False(_pieces.Status.HasStarted);
    }

    [Fact]
    public async Task PollUntilAsync_FailsAfterStarting_LogsAndCarriesOn()
    {
        _pieces.Status.MarkStarted();
        _list.Failure = new HttpRequestException("down");
        var run = Fallback().PollUntilAsync(_time.GetUtcNow() + Interval, _refused, Interval, CancellationToken.None);
        await _list.NextRequestAsync();
        _time.Advance(Interval);
        Assert.Null(await run.WaitAsync(TestTimeouts.Default));
        Assert.Equal(2, _pieces.Log.Count("PollFailed"));
    }
}
