using SignalStream.Protocol;

namespace SignalStream.Client;

/// <summary>
/// The default policy: exponential backoff from <see cref="InitialDelay"/> doubling up to <see cref="MaxDelay"/>,
/// with full jitter (a uniform delay between zero and the current ceiling), retrying forever. It stops on
/// close codes that say not to reconnect (1000, 1003, 1007, 1009 and 4500-4999) and on refused credentials;
/// after 1001 (server shutting down) it reconnects at once with a small jitter; after 1013 (overloaded) it
/// uses the largest ceiling straight away.
/// </summary>
public sealed class ExponentialBackoffReconnectPolicy : IReconnectPolicy
{
    private readonly Func<double> _random;

    /// <summary>Creates the policy.</summary>
    /// <param name="initialDelay">Ceiling of the first delay. Default 3 s.</param>
    /// <param name="maxDelay">Largest ceiling. Default 30 s.</param>
    /// <param name="goingAwayJitter">Ceiling of the delay after a 1001 close. Default 1 s.</param>
    /// <param name="random">Source of uniform numbers in [0, 1); tests pass a fixed one. Default <see cref="Random.Shared"/>.</param>
    public ExponentialBackoffReconnectPolicy(
        TimeSpan? initialDelay = null,
        TimeSpan? maxDelay = null,
        TimeSpan? goingAwayJitter = null,
        Func<double>? random = null)
    {
        InitialDelay = initialDelay ?? TimeSpan.FromSeconds(3);
        MaxDelay = maxDelay ?? TimeSpan.FromSeconds(30);
        GoingAwayJitter = goingAwayJitter ?? TimeSpan.FromSeconds(1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(InitialDelay, TimeSpan.Zero, nameof(initialDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDelay, InitialDelay, nameof(maxDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(GoingAwayJitter, TimeSpan.Zero, nameof(goingAwayJitter));
        _random = random ?? Random.Shared.NextDouble;
    }

    /// <summary>Ceiling of the first delay.</summary>
    public TimeSpan InitialDelay { get; }

    /// <summary>Largest ceiling.</summary>
    public TimeSpan MaxDelay { get; }

    /// <summary>Ceiling of the delay after a 1001 close.</summary>
    public TimeSpan GoingAwayJitter { get; }

    /// <inheritdoc/>
    public TimeSpan? NextRetryDelay(ReconnectContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Reason == DisconnectReason.Unauthorized)
            return null;
        if (context.CloseStatus is { } code)
        {
            if (!CloseCodes.ShouldReconnect(code))
                return null;
            if (code == CloseCodes.GoingAway && context.PreviousRetryCount == 0)
                return Jitter(GoingAwayJitter);
            if (code == CloseCodes.TryAgainLater)
                return Jitter(MaxDelay);
        }
        return Jitter(Ceiling(context.PreviousRetryCount));
    }

    /// <summary>The ceiling of the delay after <paramref name="previousRetryCount"/> failed attempts.</summary>
    public TimeSpan Ceiling(int previousRetryCount)
    {
        // InitialDelay * 2^n, computed without overflowing for large n.
        var ceiling = InitialDelay;
        for (var i = 0; i < previousRetryCount && ceiling < MaxDelay; i++)
            ceiling += ceiling;
        return ceiling < MaxDelay ? ceiling : MaxDelay;
    }

    private TimeSpan Jitter(TimeSpan ceiling)
    {
        var r = Math.Clamp(_random(), 0, 1);
        return TimeSpan.FromTicks((long)(ceiling.Ticks * r));
    }
}
