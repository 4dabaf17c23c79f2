using SignalStream.Client.Tests.Infrastructure;
using SignalStream.Client.Transport;
using SignalStream.Protocol;

namespace SignalStream.Client.Tests.Transport;

[Trait(TestKinds.Name, TestKinds.Unit)]
public class OfflineQueueTests
{
    private static ClientMessage Ping(double ts) => new() { Type = MessageTypes.Ping, Ts = ts };

    private static List<ClientMessage> Drain(OfflineQueue queue)
    {
        var list = new List<ClientMessage>();
        while (queue.TryPeek(out var m))
        {
            list.Add(m);
            queue.RemoveFirst();
        }
        return list;
    }

    [Fact]
    public void Enqueue_KeepsOrder()
    {
        var queue = new OfflineQueue(10);
        var subscribe = new ClientMessage { Type = MessageTypes.Subscribe, Symbols = ["BTC-USD"] };
        Assert.Null(queue.Enqueue(Ping(1)));
        Assert.Null(queue.Enqueue(subscribe));
        Assert.Null(queue.Enqueue(Ping(2)));
        Assert.Equal(3, queue.Count);
        Assert.Equal([Ping(1), subscribe, Ping(2)], Drain(queue));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Enqueue_WhenFull_DropsTheOldest()
    {
        var queue = new OfflineQueue(2);
        queue.Enqueue(Ping(1));
        queue.Enqueue(Ping(2));
        var dropped = queue.Enqueue(Ping(3));
        Assert.Equal(Ping(1), dropped);
        Assert.Equal([Ping(2), Ping(3)], Drain(queue));
    }

    [Fact]
    public void Enqueue_CapacityZero_KeepsNothing()
    {
        var queue = new OfflineQueue(0);
        Assert.Equal(Ping(1), queue.Enqueue(Ping(1)));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void TryPeek_DoesNotRemoveUntilSent()
    {
        // The client removes a message only after it went out, so a send that fails keeps it queued.
        var queue = new OfflineQueue(5);
        queue.Enqueue(Ping(1));
        Assert.True(queue.TryPeek(out _));
        Assert.True(queue.TryPeek(out var again));
        Assert.Equal(Ping(1), again);
        Assert.Equal(1, queue.Count);
    }
}
