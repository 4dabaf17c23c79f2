namespace SignalStream.Protocol;

/// <summary>A stored signal, as the server sends it to clients: every field a publisher gave plus id, seq and received_at.</summary>
public sealed record Signal
{
    /// <summary>Server-assigned identifier.</summary>
    public string Id { get; init; } = "";
    /// <summary>Deployment-wide order of broadcast.</summary>
    public long Seq { get; init; }
    /// <summary>The publisher's identifier, unique per source.</summary>
    public string ExternalId { get; init; } = "";
    /// <summary>The publisher.</summary>
    public string Source { get; init; } = "";
    /// <summary>Instrument, for example BTC-USD.</summary>
    public string Symbol { get; init; } = "";
    /// <summary>BUY or SELL.</summary>
    public string Side { get; init; } = "";
    /// <summary>Entry price.</summary>
    public decimal? EntryPrice { get; init; }
    /// <summary>Stop loss.</summary>
    public decimal? StopLoss { get; init; }
    /// <summary>Take profit.</summary>
    public decimal? TakeProfit { get; init; }
    /// <summary>Confidence within 0 to 1.</summary>
    public double? Confidence { get; init; }
    /// <summary>Timeframe, for example 1h.</summary>
    public string? Timeframe { get; init; }
    /// <summary>Whether the signal is premium (min_tier at or above PROFESSIONAL).</summary>
    public bool Premium { get; init; }
    /// <summary>Lowest tier that may see the signal.</summary>
    public Tier MinTier { get; init; }
    /// <summary>Optional free text.</summary>
    public string? Notes { get; init; }
    /// <summary>When the publisher generated it.</summary>
    public DateTimeOffset? GeneratedAt { get; init; }
    /// <summary>When the server stored it.</summary>
    public DateTimeOffset ReceivedAt { get; init; }
}

/// <summary>The REST list: visible signals, plus the newest stored seq and the history it counts in.</summary>
public sealed record SignalPage(Signal[] Signals, long LastSeq)
{
    /// <summary>The identity of the signal history (null from a server that predates it).</summary>
    public string? Epoch { get; init; }
}
