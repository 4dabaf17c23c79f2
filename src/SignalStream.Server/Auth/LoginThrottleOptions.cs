namespace SignalStream.Server.Auth;

/// <summary>
/// <c>Auth:Throttle</c>: failed logins and token exchanges counted per username and per client address, each in a
/// fixed window. Half the allowance used: every failure answers after <see cref="FailureDelay"/>; all of it used:
/// 429 with <c>Retry-After</c> until the window ends (docs/operations.md, "Login throttling").
/// </summary>
public sealed class LoginThrottleOptions
{
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);
    public int FailuresPerUsername { get; set; } = 10;
    /// <summary>Higher than per username: many people can share one address (an office, a carrier's NAT).</summary>
    public int FailuresPerAddress { get; set; } = 100;
    public TimeSpan FailureDelay { get; set; } = TimeSpan.FromSeconds(1);
}
