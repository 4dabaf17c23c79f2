using Microsoft.Extensions.Options;
using SignalStream.Server.Cluster;
using SignalStream.Server.Http;
using StackExchange.Redis;

namespace SignalStream.Server.Auth;

/// <summary>
/// Failures counted in Redis, so every node refuses the same guesser: one counter per key, expiring one window
/// after its first failure. While Redis is away each node counts on its own (<see cref="LocalFailureCounter"/>)
/// rather than letting guesses through uncounted.
/// </summary>
public sealed class RedisFailureCounter(RedisConnection redis, LocalFailureCounter local, IOptions<AuthOptions> options) : IFailureCounter
{
    private const string LockedFor = """
        local wait = 0
        for i, key in ipairs(KEYS) do
          if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i]) then wait = math.max(wait, redis.call('PTTL', key)) end
        end
        return wait
        """;

    private const string AddFailure = """
        local counts = {}
        for i, key in ipairs(KEYS) do
          counts[i] = redis.call('INCR', key)
          if counts[i] == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
        end
        return counts
        """;

    public async ValueTask<TimeSpan> LockedForAsync(IReadOnlyList<ThrottleKey> keys)
    {
        try
        {
            var ms = (long)await redis.Database.ScriptEvaluateAsync(LockedFor, RedisKeysOf(keys), [.. keys.Select(k => (RedisValue)k.Limit)]);
            return TimeSpan.FromMilliseconds(Math.Max(ms, 0));
        }
        catch (Exception e) when (Problems.IsOutage(e))
        {
            return await local.LockedForAsync(keys);
        }
    }

    public async ValueTask<int[]> AddFailureAsync(IReadOnlyList<ThrottleKey> keys)
    {
        try
        {
            var window = (long)Math.Ceiling(options.Value.Throttle.Window.TotalMilliseconds);
            return (int[])(await redis.Database.ScriptEvaluateAsync(AddFailure, RedisKeysOf(keys), [window]))!;
        }
        catch (Exception e) when (Problems.IsOutage(e))
        {
            return await local.AddFailureAsync(keys);
        }
    }

    private static RedisKey[] RedisKeysOf(IReadOnlyList<ThrottleKey> keys) => [.. keys.Select(k => (RedisKey)RedisKeys.LoginFailures(k.Name))];
}
