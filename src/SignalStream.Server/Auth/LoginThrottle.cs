using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
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
/// Failures counted on this node, one window per key that starts at its first failure, as in Redis. (The platform's
/// fixed-window limiter was the first choice; its windows tick from when a partition was created, so a burst could
/// straddle a boundary and get twice the allowance, and its Retry-After is always a whole window.)
/// </summary>
public sealed class LocalFailureCounter(IOptions<AuthOptions> options, TimeProvider time) : IFailureCounter
{
    private sealed class Window(DateTimeOffset ends)
    {
        public DateTimeOffset Ends { get; } = ends;
        public int Failures { get; set; }
    }

    private readonly Lock _gate = new(); // held for microseconds beside a password hash of tens of milliseconds
    private readonly Dictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private DateTimeOffset _nextSweep;

    public ValueTask<TimeSpan> LockedForAsync(IReadOnlyList<ThrottleKey> keys)
    {
        var now = time.GetUtcNow();
        var wait = TimeSpan.Zero;
        lock (_gate)
        {
            foreach (var key in keys)
                if (_windows.TryGetValue(key.Name, out var window) && window.Ends > now && window.Failures >= key.Limit && window.Ends - now > wait)
                    wait = window.Ends - now;
        }
        return ValueTask.FromResult(wait);
    }

    public ValueTask<int[]> AddFailureAsync(IReadOnlyList<ThrottleKey> keys)
    {
        var now = time.GetUtcNow();
        var counts = new int[keys.Count];
        lock (_gate)
        {
            Sweep(now);
            for (var i = 0; i < keys.Count; i++)
            {
                if (!_windows.TryGetValue(keys[i].Name, out var window) || window.Ends <= now)
                    _windows[keys[i].Name] = window = new Window(now + options.Value.Throttle.Window);
                counts[i] = ++window.Failures;
            }
        }
        return ValueTask.FromResult(counts);
    }

    /// <summary>Drops ended windows, once a window: memory holds the failures of two windows at most.</summary>
    private void Sweep(DateTimeOffset now)
    {
        if (now < _nextSweep) return;
        _nextSweep = now + options.Value.Throttle.Window;
        foreach (var (name, window) in _windows)
            if (window.Ends <= now) _windows.Remove(name);
    }
}
