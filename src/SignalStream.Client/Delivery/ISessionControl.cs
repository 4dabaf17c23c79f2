using SignalStream.Protocol;

namespace SignalStream.Client.Delivery;

/// <summary>What the <see cref="MessageDispatcher"/> asks of the connection a frame came from.</summary>
internal interface ISessionControl
{
    /// <summary><c>welcome</c> arrived: the connection goes online (queued messages out, heartbeat on).</summary>
    Task OnWelcomeAsync(ServerMessage welcome, CancellationToken ct);

    /// <summary>The server warned that the token expires: renew it on this connection.</summary>
    void OnTokenExpiring(DateTimeOffset? expiresAt);

    /// <summary>A catch-up page arrived on the connection's behalf: not silence.</summary>
    void MarkAlive();
}
