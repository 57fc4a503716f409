namespace Orchflow.Bench;

/// <summary>A sample of measurements (milliseconds, or any unit) and the figures the report gives of it.</summary>
public sealed class Sample
{
    readonly List<double> values = [];

    public int Count => values.Count;

    public void Add(double value)
    {
        lock (values)
        {
            values.Add(value);
        }
    }

    public void AddRange(IEnumerable<double> more)
    {
        lock (values)
        {
            values.AddRange(more);
        }
    }

    public double Median => Percentile(50);

    /// <summary>Nearest rank: with fewer than 100 values the 99th percentile is the largest one.</summary>
    public double P99 => Percentile(99);

    public double Percentile(double percent)
    {
        var sorted = Sorted();
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        if (percent == 50)
        {
            var middle = sorted.Count / 2;
            return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        }

        var rank = (int)Math.Ceiling(percent / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    List<double> Sorted()
    {
        lock (values)
        {
            return values.Order().ToList();
        }
    }
}
