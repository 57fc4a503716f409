namespace Orchflow.Tests.Models;

/// <summary>A clock that moves only when a test advances it; its timers fire then, so delays are tested without waiting.</summary>
sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    readonly List<ManualTimer> timers = [];
    DateTimeOffset now = start;

    /// <summary>The due time of every timer created, in order.</summary>
    public IEnumerable<TimeSpan> DueTimes => timers.Select(t => t.DueTime);

    public override DateTimeOffset GetUtcNow() => now;

    // Timestamps follow the same clock, so elapsed times and windows move only when the test advances it.
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => now.UtcTicks;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(callback, state, dueTime, now + dueTime);
        timers.Add(timer);
        return timer;
    }

    public void Advance(TimeSpan by)
    {
        now += by;
        foreach (var timer in timers.Where(t => t.IsDue(now)).ToList())
        {
            timer.Fire();
        }
    }

    sealed class ManualTimer(TimerCallback callback, object? state, TimeSpan dueTime, DateTimeOffset fireAt) : ITimer
    {
        bool done;

        public TimeSpan DueTime { get; } = dueTime;

        public bool IsDue(DateTimeOffset now) => !done && fireAt <= now;

        public void Fire()
        {
            done = true;
            callback(state);
        }

        // The simulated model's one-shot delays never reschedule; a change would be a surprise worth failing on.
        public bool Change(TimeSpan dueTime, TimeSpan period) => throw new NotSupportedException("Manual timers are one-shot.");

        public void Dispose() => done = true;

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
