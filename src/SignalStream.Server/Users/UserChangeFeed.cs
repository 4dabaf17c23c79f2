using SignalStream.Protocol;
using SignalStream.Server.Fanout;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Users;

/// <summary>
/// Follows the user store's change feed and applies each change to the cache and to this node's
/// live connections: <c>tier_changed</c> and the new filter, or close 4503. Every node polls the
/// shared store itself, so a change made through any node reaches every node within
/// <see cref="PollInterval"/>, with or without a backplane.
/// </summary>
public sealed class UserChangeFeed(IUserStore store, UserDirectory directory, ConnectionHub hub, TimeProvider time, ILogger<UserChangeFeed> logger) : BackgroundService
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var initialized = false;
        using var timer = new PeriodicTimer(PollInterval, time);
        do
        {
            try
            {
                if (!initialized)
                {
                    // Start from the present: the store already is the truth for every later lookup.
                    directory.StartAt(await store.GetVersionAsync(stoppingToken));
                    initialized = true;
                }
                await PollOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.UserFeedFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    internal async Task PollOnceAsync(CancellationToken ct)
    {
        var changes = await store.ReadChangesAsync(directory.Version, ct);
        directory.Apply(changes);
        foreach (var user in changes)
        {
            if (hub.ApplyUserChange(user)) logger.UserChanged(user.Id, user.Tier.ToWire(), user.Disabled);
        }
        directory.MarkFresh();
    }
}
