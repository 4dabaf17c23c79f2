using SignalStream.Client.Tests.Infrastructure;

namespace SignalStream.Client.Tests;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class ClientEventsTests
{
    [Fact]
    public void AHandlerThatThrows_IsLogged_AndTheOthersStillRun()
    {
        var log = new TestLogger();
        var sender = new object();
        var events = new ClientEvents(sender, log);
        object? seenSender = null;
        events.SignalReceived += (_, _) => throw new InvalidOperationException("handler bug");
        events.Resumed += (s, _) => seenSender = s;

        events.OnSignalReceived(FakeSignalServer.MakeSignal(1));
        events.OnResumed(new ResumedEventArgs(ResumeSource.Replay, 0, 1, 1));

        Assert.Same(sender, seenSender);
        Assert.Equal(1, log.Count("HandlerFailed"));
    }
}
