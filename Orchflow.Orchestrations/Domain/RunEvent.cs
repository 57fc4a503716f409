namespace Orchflow.Domain;

/// <summary>
/// Something noteworthy in a run's planning that its states alone do not tell: the plan's shape, a plan repaired or replaced.
/// <paramref name="Key"/> is unique within the run, so recording the same event twice keeps one.
/// </summary>
public sealed record RunEvent(string Key, DateTimeOffset At, string Kind, string Message);

public static class RunEventKinds
{
    public const string Planned = "planned";

    public const string PlanRepair = "plan_repair";
    public const string PlanFallback = "plan_fallback";
}
