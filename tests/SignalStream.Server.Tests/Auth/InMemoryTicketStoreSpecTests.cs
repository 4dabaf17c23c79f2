using Microsoft.Extensions.Options;
using SignalStream.Server.Auth;

namespace SignalStream.Server.Tests.Auth;

public sealed class InMemoryTicketStoreSpecTests : TicketStoreSpec
{
    protected override ITicketStore CreateStore() => new InMemoryTicketStore(Options.Create(new AuthOptions { TicketLifetime = Lifetime }), Clock);
}
