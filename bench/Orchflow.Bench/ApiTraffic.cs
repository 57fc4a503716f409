using System.Diagnostics;

namespace Orchflow.Bench;

/// <summary>What became of one request.</summary>
public enum Outcome
{
    /// <summary>A 2xx with the body promised.</summary>
    Served,

    /// <summary>A 429 with <c>Retry-After</c> and <c>code: rate_limited</c>: waited for, then sent again.</summary>
    Limited,

    /// <summary>Any other status, or a 429 that breaks the contract.</summary>
    Refused,

    /// <summary>A timeout, a refused or dropped connection, or a 2xx body that could not be read.</summary>
    NoAnswer,
}

/// <param name="At">When the answer came (or the request gave up), from the start of the record.</param>
/// <param name="Latency">The request alone: a wait asked for by <c>Retry-After</c> is never in it.</param>
public readonly record struct Exchange(string Route, int Status, Outcome Outcome, TimeSpan At, TimeSpan Latency);

/// <summary>Every request an <see cref="OrchflowApi"/> made, kept so the load phase can count and time them by route.</summary>
public sealed class ApiTraffic
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    readonly List<Exchange> exchanges = [];

    public TimeSpan Elapsed => clock.Elapsed;

    public void Record(string route, int status, Outcome outcome, TimeSpan latency)
    {
        var exchange = new Exchange(route, status, outcome, clock.Elapsed, latency);
        lock (exchanges)
        {
            exchanges.Add(exchange);
        }
    }

    public List<Exchange> Snapshot()
    {
        lock (exchanges)
        {
            return [.. exchanges];
        }
    }
}
