using Microsoft.Extensions.Logging;
using SignalStream.Client.Rest;

namespace SignalStream.Client.Delivery;

/// <summary>
/// Fetches what the consumer missed from the REST list, page by page, after the resume position: for a
/// <c>resync_required</c> and for every poll while the socket cannot be opened.
/// </summary>
internal sealed class RestCatchUp(ISignalList list, ResumeState resume, SignalDelivery delivery, int pageSize, ILogger logger)
{
    /// <summary>
    /// Delivers every visible signal after the last delivered one; returns how many were delivered.
    /// <paramref name="pageFetched"/> is called after each page (a long catch-up is not silence on the connection).
    /// </summary>
    public async Task<int> RunAsync(Action? pageFetched, CancellationToken ct)
    {
        if (!resume.HasPosition)
        {
            // A fresh start without a resume point: begin after the newest stored signal.
            var newest = await list.GetSignalsAsync(null, 1, ct).ConfigureAwait(false);
            resume.InitializeIfUnknown(newest.LastSeq);
            return 0;
        }
        var delivered = 0;
        while (true)
        {
            var after = resume.LastSeq!.Value;
            var page = await list.GetSignalsAsync(after, pageSize, ct).ConfigureAwait(false);
            pageFetched?.Invoke();
            if (resume.TryRebase(page.Epoch, page.LastSeq))
            {
                // Another history (a reset or a restore): the page was read with a seq that means nothing in it.
                Log.HistoryChanged(logger, page.Epoch, page.LastSeq, after);
                continue;
            }
            var highest = after;
            foreach (var signal in page.Signals.OrderBy(s => s.Seq))
            {
                if (await delivery.DeliverAsync(signal, filterSymbols: true, ct).ConfigureAwait(false))
                    delivered++;
                highest = Math.Max(highest, signal.Seq);
            }
            if (page.Signals.Length < pageSize || highest <= after)
                return delivered;
        }
    }
}
