using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using SignalStream.Protocol;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>
/// A publisher that never loses track of a signal: each one is posted until some node acknowledges
/// it (201, or 200 "duplicate" when an earlier attempt was stored after all), moving on to the
/// next target after a refusal or a dead node, always with the same <c>external_id</c>. The
/// acknowledged seqs are therefore exactly what history holds, which is what clients must receive.
/// </summary>
public sealed class Publisher(IReadOnlyList<(string Name, HttpClient Http)> targets, string source)
{
    private readonly CancellationTokenSource _abandon = new();
    private int _count;
    private int _next = -1;

    public ConcurrentDictionary<long, PublishedSignal> Acked { get; } = new();
    /// <summary>Answers other than 200/201, by target ("0" for a failed request).</summary>
    public ConcurrentQueue<(string Target, int Status)> Refusals { get; } = new();

    /// <summary>The acknowledged seqs a user of <paramref name="tier"/> may see, in order.</summary>
    public List<long> VisibleTo(Tier tier) => Acked.Values.Where(s => s.MinTier <= tier).Select(s => s.Seq).Order().ToList();

    public static Tier TierFor(int i) => (Tier)(i % 3);

    /// <summary>Publishes one signal, starting at target <paramref name="target"/> (round robin when null), until acknowledged.</summary>
    /// <param name="onlyTarget">Retry on <paramref name="target"/> only (to show that this node takes signals again).</param>
    public async Task<PublishedSignal> PublishAsync(Tier minTier, int? target = null, TimeSpan? timeout = null, bool onlyTarget = false)
    {
        var number = Interlocked.Increment(ref _count);
        var externalId = $"{source}-{number}";
        var body = TestServer.NewSignal(externalId, symbol: number % 2 == 0 ? "BTC-USD" : "ETH-USD", minTier: minTier, source: source);
        var index = target ?? Interlocked.Increment(ref _next);
        var deadline = Stopwatch.GetTimestamp() + (long)((timeout ?? TimeSpan.FromSeconds(120)).TotalSeconds * Stopwatch.Frequency);
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            var (name, http) = targets[index % targets.Count];
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Ingest) { Content = JsonContent.Create(body) };
                request.Headers.Add("X-API-Key", ScaleOutCluster.PublisherKey);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                using var response = await http.SendAsync(request, cts.Token);
                if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                {
                    var answer = (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.IngestResponse, cts.Token))!;
                    var published = new PublishedSignal(answer.Seq, externalId, minTier, name, Stopwatch.GetElapsedTime(started));
                    Acked[answer.Seq] = published;
                    return published;
                }
                Refusals.Enqueue((name, (int)response.StatusCode));
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                Refusals.Enqueue((name, 0));
            }
            if (Stopwatch.GetTimestamp() > deadline) throw new TimeoutException($"{externalId} was never acknowledged");
            _abandon.Token.ThrowIfCancellationRequested();
            if (!onlyTarget) index++;
            await Task.Delay(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 500));
        }
    }

    /// <summary>Gives up on retries (after a failed test): the signal being retried may or may not end up stored.</summary>
    public void Abandon() => _abandon.Cancel();

    /// <summary>Publishes one signal after another (tiers in turn) until <paramref name="stop"/>; a signal in flight is always finished.</summary>
    public Task RunAsync(TimeSpan interval, CancellationToken stop) => Task.Run(async () =>
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            await PublishAsync(TierFor(i));
            try { await Task.Delay(interval, stop); }
            catch (OperationCanceledException) { }
        }
    }, CancellationToken.None);
}
