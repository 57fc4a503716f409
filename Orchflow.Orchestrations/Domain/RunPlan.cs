namespace Orchflow.Domain;

/// <summary>One node of a run's task graph; a human task may carry the schema of the form its person fills in.</summary>
public sealed record PlannedTask(
    string TaskId,
    string Name,
    string Description,
    TaskKind Kind,
    string? Agent,
    IReadOnlyList<string> DependsOn,
    string? Prompt = null,
    string? InputSchema = null);

/// <summary>A run's task graph, and which planner produced it.</summary>
public sealed record RunPlan(IReadOnlyList<PlannedTask> Tasks, string PlannedBy)
{
    /// <summary>Who planned a plan the client gave or a reviewer edited.</summary>
    public const string ByUser = "user";
}
