using System.Diagnostics.Metrics;
using System.Globalization;
using Prometheus;

namespace SignalStream.Server.Observability;

/// <summary>
/// Publishes the platform's meters (the runtime, Kestrel, ASP.NET Core hosting, Npgsql) in prometheus-net's registry
/// under Prometheus names: the instrument's OpenTelemetry name with dots as underscores, the unit as a suffix
/// (<c>_seconds</c>, <c>_bytes</c>), <c>_total</c> on counters, and a gauge never ending in <c>_count</c> (its last
/// word is made plural instead), so that <c>promtool check metrics</c> has nothing to say. prometheus-net's own
/// adapter prefixes the meter name, types every counter as a gauge and drops units; it is switched off, as are the
/// EventCounters (msquic's among them). One bridge per server registry; the meters it listens to are process-wide
/// (runtime, Npgsql) or per app (Kestrel, hosting: beside other servers in one process, their series are summed).
/// </summary>
internal sealed class MeterBridge : IDisposable
{
    /// <summary>The meters worth a series; anything else (System.Net.Quic, System.Net.Http...) is left out.</summary>
    private static readonly HashSet<string> Meters = new(StringComparer.Ordinal)
    {
        "System.Runtime", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Hosting", "Npgsql",
    };

    /// <summary>Declared as counters by the runtime, yet they go down: published as gauges.</summary>
    private static readonly HashSet<string> NotCounters = new(StringComparer.Ordinal)
    {
        "dotnet.thread_pool.thread.count", "dotnet.thread_pool.queue.length",
    };

    private readonly MeterListener _listener;
    private readonly IMetricFactory _metrics;
    private readonly Dictionary<string, Series> _seriesByName = new(StringComparer.Ordinal);

    public MeterBridge(CollectorRegistry registry)
    {
        _metrics = Metrics.WithCustomRegistry(registry);
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (Meters.Contains(instrument.Meter.Name)) l.EnableMeasurementEvents(instrument, SeriesOf(instrument));
            },
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((Series)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => ((Series)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((Series)state!).Record(value, tags));
        _listener.Start();
        // Observable instruments report when asked: just before each scrape.
        registry.AddBeforeCollectCallback(_listener.RecordObservableInstruments);
    }

    public void Dispose() => _listener.Dispose();

    private Series SeriesOf(Instrument instrument)
    {
        var name = NameOf(instrument);
        lock (_seriesByName)
        {
            // Each app in a process (tests) has its own Kestrel meter: their instruments share one series.
            if (!_seriesByName.TryGetValue(name, out var series)) _seriesByName[name] = series = new Series(instrument, name, _metrics);
            return series;
        }
    }

    /// <summary>The Prometheus name of an instrument (see the class summary).</summary>
    internal static string NameOf(Instrument instrument)
    {
        var name = instrument.Name.Replace('.', '_').Replace('-', '_');
        var suffix = instrument.Unit switch { "s" => "_seconds", "By" => "_bytes", _ => "" };
        if (!name.EndsWith(suffix, StringComparison.Ordinal)) name += suffix;
        if (IsCounter(instrument)) return name + "_total";
        if (instrument is Histogram<double> or Histogram<long> or Histogram<int> || !name.EndsWith("_count", StringComparison.Ordinal)) return name;
        var word = name[..^"_count".Length];
        return word.EndsWith('y') ? word[..^1] + "ies" : word + "s";
    }

    private static bool IsCounter(Instrument instrument) =>
        instrument.GetType().IsGenericType && instrument.GetType().GetGenericTypeDefinition() is var kind
        && (kind == typeof(Counter<>) || kind == typeof(ObservableCounter<>)) && !NotCounters.Contains(instrument.Name);

    private static bool ReportsTotals(Instrument instrument) =>
        instrument.IsObservable; // observable instruments report the current value (or running total), the others increments

    /// <summary>
    /// One instrument's series. Its labels are the tags of its first measurement (an instrument's tags rarely change;
    /// a tag that only turns up later is left out, one that goes missing is empty).
    /// </summary>
    private sealed class Series(Instrument instrument, string name, IMetricFactory metrics)
    {
        private readonly Lock _gate = new();
        private string[]? _tagNames;
        private Collector? _collector;

        public void Record<T>(T value, ReadOnlySpan<KeyValuePair<string, object?>> tags) where T : struct, IConvertible
        {
            var number = value.ToDouble(CultureInfo.InvariantCulture);
            var collector = _collector ?? Create(tags);
            var labels = new string[_tagNames!.Length];
            for (var i = 0; i < labels.Length; i++) labels[i] = "";
            foreach (var (key, tag) in tags)
            {
                var at = Array.IndexOf(_tagNames, key);
                if (at >= 0) labels[at] = Convert.ToString(tag, CultureInfo.InvariantCulture) ?? "";
            }
            switch (collector)
            {
                case Counter c when ReportsTotals(instrument): c.WithLabels(labels).IncTo(number); break;
                case Counter c: c.WithLabels(labels).Inc(number); break;
                case Gauge g when ReportsTotals(instrument): g.WithLabels(labels).Set(number); break;
                case Gauge g: g.WithLabels(labels).Inc(number); break;
                case Histogram h: h.WithLabels(labels).Observe(number); break;
            }
        }

        private Collector Create(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var tagNames = new string[tags.Length];
            for (var i = 0; i < tags.Length; i++) tagNames[i] = tags[i].Key;
            lock (_gate)
            {
                if (_collector is not null) return _collector;
                _tagNames = tagNames;
                var labelNames = tagNames.Select(t => t.Replace('.', '_')).ToArray();
                var help = string.IsNullOrEmpty(instrument.Description) ? instrument.Name : instrument.Description;
                return _collector = instrument switch
                {
                    _ when IsCounter(instrument) => metrics.CreateCounter(name, help, labelNames),
                    Histogram<double> d => metrics.CreateHistogram(name, help, labelNames, new HistogramConfiguration { Buckets = Buckets(d.Advice?.HistogramBucketBoundaries) }),
                    Histogram<long> or Histogram<int> => metrics.CreateHistogram(name, help, labelNames),
                    _ => metrics.CreateGauge(name, help, labelNames),
                };
            }
        }

        private static double[]? Buckets(IReadOnlyList<double>? advice) => advice is { Count: > 0 } ? [.. advice] : null;
    }
}
