using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Orchflow.Telemetry;

namespace Orchflow.Tests.Telemetry;

/// <summary>Orchflow's source and meter exported to memory with the OpenTelemetry SDK, for the length of one test.</summary>
sealed class InMemoryTelemetry : IDisposable
{
    readonly List<Activity> spans = [];
    readonly List<Metric> metrics = [];
    readonly TracerProvider tracer;
    readonly MeterProvider meter;

    public InMemoryTelemetry()
    {
        tracer = Sdk.CreateTracerProviderBuilder().AddSource(OrchflowTelemetry.Name).AddInMemoryExporter(spans).Build();
        meter = Sdk.CreateMeterProviderBuilder().AddMeter(OrchflowTelemetry.Name).AddInMemoryExporter(metrics).Build();
    }

    public IReadOnlyList<Activity> Spans
    {
        get
        {
            tracer.ForceFlush();
            return spans.ToList();
        }
    }

    public Activity Span(string name) => Spans.Single(s => s.OperationName == name);

    /// <summary>Every point of a metric collected now, with its attributes as a dictionary.</summary>
    public IReadOnlyList<(IReadOnlyDictionary<string, object?> Tags, double Value, long Count)> Points(string name)
    {
        metrics.Clear();
        meter.ForceFlush();
        var points = new List<(IReadOnlyDictionary<string, object?>, double, long)>();
        foreach (var metric in metrics.Where(m => m.Name == name))
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                var tags = new Dictionary<string, object?>();
                foreach (var tag in point.Tags)
                {
                    tags[tag.Key] = tag.Value;
                }

                var (value, count) = metric.MetricType switch
                {
                    MetricType.Histogram => (point.GetHistogramSum(), point.GetHistogramCount()),
                    MetricType.LongSum or MetricType.LongSumNonMonotonic => (point.GetSumLong(), 0L),
                    _ => (point.GetSumDouble(), 0L),
                };
                points.Add((tags, value, count));
            }
        }

        return points;
    }

    public void Dispose()
    {
        tracer.Dispose();
        meter.Dispose();
    }
}
