using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace SignalStream.Server.Auth;

/// <summary>
/// Slows, then refuses, whoever keeps failing to log in: failures are counted per username and per client
/// address (<see cref="LoginThrottleOptions"/>). A username is counted whether it exists or not, and the lock is
/// checked before the user is looked up, so neither the answer nor its timing tells the two apart.
/// </summary>
public sealed class LoginThrottle(IFailureCounter counter, IOptions<AuthOptions> options, TimeProvider time)
{
    private LoginThrottleOptions Options => options.Value.Throttle;

    /// <summary>How long the caller must wait before trying again; null when it may try now.</summary>
    public async ValueTask<TimeSpan?> RetryAfterAsync(string? username, IPAddress? address)
    {
        var wait = await counter.LockedForAsync(Keys(username, address));
        return wait > TimeSpan.Zero ? wait : null;
    }

    /// <summary>Counts a failure; once half of any allowance is used, answers only after the configured delay.</summary>
    public async Task FailedAsync(string? username, IPAddress? address, CancellationToken ct)
    {
        var keys = Keys(username, address);
        var counts = await counter.AddFailureAsync(keys);
        if (keys.Where((key, i) => counts[i] * 2 >= key.Limit).Any() && Options.FailureDelay > TimeSpan.Zero)
            await Task.Delay(Options.FailureDelay, time, ct);
    }

    private ThrottleKey[] Keys(string? username, IPAddress? address)
    {
        var keys = new List<ThrottleKey>(2);
        // Hashed: the key's size is fixed whatever was typed, and Redis never holds a username.
        if (!string.IsNullOrEmpty(username))
            keys.Add(new("user:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(username.ToLowerInvariant()))), Options.FailuresPerUsername));
        if (AddressKey(address) is { } where) keys.Add(new("addr:" + where, Options.FailuresPerAddress));
        return [.. keys];
    }

    /// <summary>An IPv4 address, or an IPv6 /64: one subscriber commonly holds a whole /64.</summary>
    internal static string? AddressKey(IPAddress? address)
    {
        if (address is null) return null;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
        var bytes = address.GetAddressBytes();
        bytes.AsSpan(8).Clear();
        return new IPAddress(bytes) + "/64";
    }
}

/// <summary>A counted thing (a username or an address) and how many failures it may have per window.</summary>
public readonly record struct ThrottleKey(string Name, int Limit);

/// <summary>Where failures are counted: this node's memory, or Redis for every node.</summary>
public interface IFailureCounter
{
    /// <summary>How long until every key is under its limit again; zero when all are.</summary>
    ValueTask<TimeSpan> LockedForAsync(IReadOnlyList<ThrottleKey> keys);

    /// <summary>Counts one failure against each key; answers each key's failures in its current window.</summary>
    ValueTask<int[]> AddFailureAsync(IReadOnlyList<ThrottleKey> keys);
}

/// <summary>
/// Failures counted on this node by the platform's fixed-window rate limiter, one partition per key; partitions
/// whose window has passed are dropped by the platform. The Retry-After it gives is a whole window (an upper bound).
/// </summary>
public sealed class LocalFailureCounter : IFailureCounter, IDisposable
{
    private readonly PartitionedRateLimiter<ThrottleKey> _limiter;
    private readonly TimeSpan _window;

    public LocalFailureCounter(IOptions<AuthOptions> options)
    {
        _window = options.Value.Throttle.Window;
        _limiter = PartitionedRateLimiter.Create<ThrottleKey, string>(key => RateLimitPartition.GetFixedWindowLimiter(key.Name,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = key.Limit, Window = _window, QueueLimit = 0, AutoReplenishment = true }));
    }

    public ValueTask<TimeSpan> LockedForAsync(IReadOnlyList<ThrottleKey> keys)
    {
        var wait = TimeSpan.Zero;
        foreach (var key in keys)
        {
            using var lease = _limiter.AttemptAcquire(key, 0); // asks without taking: refused once the window's permits are gone
            if (!lease.IsAcquired)
                wait = TimeSpan.FromTicks(Math.Max(wait.Ticks, (lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : _window).Ticks));
        }
        return ValueTask.FromResult(wait);
    }

    public ValueTask<int[]> AddFailureAsync(IReadOnlyList<ThrottleKey> keys) => ValueTask.FromResult(keys.Select(key =>
    {
        _limiter.AttemptAcquire(key).Dispose(); // a permit of a fixed window is not given back
        return key.Limit - (int)(_limiter.GetStatistics(key)?.CurrentAvailablePermits ?? 0);
    }).ToArray());

    public void Dispose() => _limiter.Dispose();
}
