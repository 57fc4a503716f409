namespace Orchflow.Domain;

/// <summary>Errors a run reports; stated once so the orchestrator and tests agree on them.</summary>
public static class RunErrors
{
    public static string TaskFailed(string taskId, string cause) => $"Task {taskId} failed: {cause}";

    public static string HumanTimedOut(string taskId, int seconds) =>
        $"Task {taskId} was not answered within {seconds} seconds (human_timeout_seconds); the run stopped.";

    public static string TooManyReviews(string taskId, int maxRounds) =>
        $"Task {taskId} was sent back more than {maxRounds} times (Orchflow:Engine:MaxReviewRounds); the run stopped.";

    public static string PlanNotReviewed(int seconds) =>
        $"The plan was not reviewed within {seconds} seconds (human_timeout_seconds); the run stopped.";

    public static string TooManyPlanReviews(int maxRounds) =>
        $"The plan was sent back more than {maxRounds} times (Orchflow:Engine:MaxReviewRounds); the run stopped.";

    public static string BudgetNotRaised(int seconds) =>
        $"The run's budget was spent and not raised within {seconds} seconds (human_timeout_seconds); the run stopped.";

    public static string ProjectionFailed(string cause) =>
        $"The run's progress could not be recorded ({cause}); the run stopped.";

    public static string Stuck(IEnumerable<string> taskIds) =>
        $"Tasks {string.Join(", ", taskIds)} can never start: the plan has unmet dependencies.";
}
