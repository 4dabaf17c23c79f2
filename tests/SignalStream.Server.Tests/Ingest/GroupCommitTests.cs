using System.Net;
using System.Net.Http.Json;
using SignalStream.Protocol;
using SignalStream.Server.Storage;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Ingest;

/// <summary>Group commit (IngestService): appends waiting together share one transaction, and still behave one by one.</summary>
[Trait("Kind", "Functional")]
public sealed class GroupCommitTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();
    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task ConcurrentPosts_WithRepeatedExternalIds_StoreOneRowEach_AnswerEveryCopyWithTheFirst_AndBroadcastEachOnceInSeqOrder()
    {
        const int Distinct = 40, Copies = 8;
        var user = await _server.CreateUserAsync(Tier.Institutional);
        var (socket, _) = await _server.ConnectWelcomedAsync(user.Token);
        await using var _s = socket;

        // Every copy of every id in flight at once, copies interleaved, so repeats meet inside one batch and across batches.
        var externalIds = Enumerable.Range(0, Distinct * Copies).Select(i => $"gc-{i % Distinct}").ToList();
        var responses = await Task.WhenAll(externalIds.Select(id => _server.PostSignalAsync(TestServer.NewSignal(id))));
        var answers = await Task.WhenAll(responses.Select(r => r.Content.ReadFromJsonAsync(ProtocolJson.Default.IngestResponse)));

        var created = new List<long>();
        foreach (var group in externalIds.Select((id, i) => (id, response: responses[i], answer: answers[i]!)).GroupBy(x => x.id))
        {
            Assert.Single(group, x => x.response.StatusCode == HttpStatusCode.Created && !x.answer.Duplicate);
            Assert.Equal(Copies - 1, group.Count(x => x.response.StatusCode == HttpStatusCode.OK && x.answer.Duplicate));
            Assert.Single(group.Select(x => (x.answer.Id, x.answer.Seq)).Distinct());
            created.Add(group.First().answer.Seq);
        }
        created.Sort();
        Assert.Equal(Enumerable.Range(0, Distinct).Select(i => created[0] + i), created); // gap-free

        var frames = await socket.ReceiveSignalsAsync(Distinct);
        Assert.Equal(created, frames.Select(f => f.Seq!.Value)); // each once, in seq order
        Assert.DoesNotContain(await socket.DrainUntilPongAsync(), f => f.Type == MessageTypes.Signal);
        var stored = await _server.Get<ISignalStore>().ReadAfterAsync(0, Tier.Institutional, 1000, false, default);
        Assert.Equal(created, stored.Select(s => s.Seq));
    }
}
