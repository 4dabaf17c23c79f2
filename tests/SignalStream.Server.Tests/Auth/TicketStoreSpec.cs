using Microsoft.Extensions.Time.Testing;
using SignalStream.Server.Auth;

namespace SignalStream.Server.Tests.Auth;

/// <summary>
/// The guarantees written on <see cref="ITicketStore"/>, held against both stores by one suite:
/// <see cref="InMemoryTicketStore"/> and <see cref="RedisTicketStore"/> (a real Redis), each on a fake clock.
/// </summary>
[Trait("Kind", "Functional")]
public abstract class TicketStoreSpec : IAsyncLifetime
{
    protected static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset TokenExpiry = new(2030, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);

    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));

    /// <summary>A store whose tickets live <see cref="Lifetime"/> by <see cref="Clock"/>.</summary>
    protected abstract ITicketStore CreateStore();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Issue_GivesA256BitTicket_NewEachTime()
    {
        var store = CreateStore();
        var tickets = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => store.IssueAsync("u", TokenExpiry, default)));
        Assert.All(tickets, t => Assert.Matches("^[A-Za-z0-9_-]{43}$", t));
        Assert.Equal(tickets.Length, tickets.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task Redeem_GivesTheUserAndTokenExpiry_Once()
    {
        var store = CreateStore();
        var ticket = await store.IssueAsync("user-1", TokenExpiry, default);
        Assert.Equal(new RedeemedTicket("user-1", TokenExpiry), await store.RedeemAsync(ticket, default));
        Assert.Null(await store.RedeemAsync(ticket, default));
    }

    [Fact]
    public async Task Redeem_ByManyAtOnce_ExactlyOneWins_PerTicket()
    {
        var store = CreateStore();
        var tickets = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => store.IssueAsync($"user-{i}", TokenExpiry, default)));
        using var start = new Barrier(16);
        // Sixteen redeemers on threads of their own, released together, each trying every ticket.
        var won = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            return tickets.Select(t => store.RedeemAsync(t, default).GetAwaiter().GetResult()).ToArray();
        }, TaskCreationOptions.LongRunning)));

        for (var i = 0; i < tickets.Length; i++)
        {
            var winners = won.Select(r => r[i]).Where(r => r is not null).ToList();
            Assert.Equal(new RedeemedTicket($"user-{i}", TokenExpiry), Assert.Single(winners));
        }
    }

    [Fact]
    public async Task Redeem_UntilTheLifetimeIsUp_ByTheStoresClock()
    {
        var store = CreateStore();
        var early = await store.IssueAsync("u", TokenExpiry, default);
        var onTheDot = await store.IssueAsync("u", TokenExpiry, default);
        var late = await store.IssueAsync("u", TokenExpiry, default);

        Clock.Advance(Lifetime - TimeSpan.FromMilliseconds(1));
        Assert.NotNull(await store.RedeemAsync(early, default));
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Null(await store.RedeemAsync(onTheDot, default));
        Clock.Advance(TimeSpan.FromHours(1));
        Assert.Null(await store.RedeemAsync(late, default));
    }

    [Fact]
    public async Task Redeem_Expired_IsGone_EvenWhenTheClockTurnsBack()
    {
        var store = CreateStore();
        var ticket = await store.IssueAsync("u", TokenExpiry, default);
        Clock.Advance(Lifetime);
        Assert.Null(await store.RedeemAsync(ticket, default));
        Clock.AdjustTime(Clock.GetUtcNow() - Lifetime);
        Assert.Null(await store.RedeemAsync(ticket, default));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-ticket")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("a|b|c")]
    [InlineData("ticket with spaces and \u00e9\u0000")]
    public async Task Redeem_UnknownOrMalformed_IsNull(string ticket)
    {
        var store = CreateStore();
        await store.IssueAsync("u", TokenExpiry, default);
        Assert.Null(await store.RedeemAsync(ticket, default));
        Assert.Null(await store.RedeemAsync(new string('x', 10_000), default));
    }
}
