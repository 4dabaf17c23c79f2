using SignalStream.Protocol;

namespace SignalStream.Client.Transport;

/// <summary>
/// Client-to-server messages sent while disconnected, kept in order and bounded: when full, the oldest
/// message is dropped (a later <c>subscribe</c> supersedes an earlier one, and a stale <c>ping</c> is worthless).
/// </summary>
/// <remarks>Callers serialize access (the <see cref="Outbox"/> holds its send lock).</remarks>
internal sealed class OfflineQueue(int capacity)
{
    private readonly Queue<ClientMessage> _items = new();

    public int Capacity { get; } = capacity;

    public int Count => _items.Count;

    /// <summary>Adds a message; returns the message dropped to make room, if any.</summary>
    public ClientMessage? Enqueue(ClientMessage message)
    {
        if (Capacity == 0)
            return message;
        ClientMessage? dropped = null;
        if (_items.Count >= Capacity)
            dropped = _items.Dequeue();
        _items.Enqueue(message);
        return dropped;
    }

    public bool TryPeek(out ClientMessage message) => _items.TryPeek(out message!);

    public void RemoveFirst() => _items.Dequeue();
}
