using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Telemetry;
using static Orchflow.Telemetry.OrchflowTelemetry;

namespace Orchflow.Planning;

/// <summary>A plan and how it came about.</summary>
public sealed record PlanResult(RunPlan Plan, TokenUsage Usage, IReadOnlyList<RunEvent> Events);

/// <summary>
/// Asks the run's model for a task graph, validates it, gives the model one chance to repair an invalid plan
/// with the errors spelled out, and falls back to the deterministic planner when the repair fails too.
/// Human gates are applied last, to whichever plan won.
/// </summary>
public sealed class Planner(TimeProvider clock, ILogger<Planner> log)
{
    /// <summary>How much of an invalid answer is shown back to the model: enough to see what it did.</summary>
    const int MaxEchoedAnswer = 8_000;

    public async Task<PlanResult> PlanAsync(
        IRunModel model, RunDefinition definition, IReadOnlyList<AgentSpec> agents, CancellationToken cancellationToken, PlanFeedback? review = null)
    {
        using var span = StartSpan("orchflow.plan");
        var usage = TokenUsage.Zero;
        var events = new List<RunEvent>();
        var request = new PlanningRequest(definition, agents, Review: review);
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            // The second attempt is the repair: its model call and validation are the repair span's children.
            using var repair = attempt == 2 ? StartSpan("orchflow.plan.repair") : null;
            var reply = await model.PlanAsync(request, cancellationToken);
            usage += reply.Usage;
            var (tasks, errors) = Validate(reply.Value, definition, agents, attempt);
            if (errors.Count == 0)
            {
                var plannedBy = attempt == 1 ? model.Name : $"{model.Name} (repaired)";
                repair?.SetStatus(System.Diagnostics.ActivityStatusCode.Ok);
                return Planned(span, attempt == 1 ? "model" : "repaired",
                    new PlanResult(HumanGates.Apply(new RunPlan(tasks!, plannedBy), definition.HumanGates), usage, events));
            }

            repair?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, "invalid");

            // The problems quote the model's answer and the run's topics, which are the user's text: they go to the run's
            // events, which only its owner reads, and the log counts them.
            log.LogWarning("Plan attempt {Attempt} by {Model} was invalid: {ErrorCount} problems", attempt, model.Name, errors.Count);
            events.Add(new RunEvent($"plan-{attempt}", clock.GetUtcNow(), attempt == 1 ? RunEventKinds.PlanRepair : RunEventKinds.PlanFallback,
                (attempt == 1
                    ? "The model's plan was invalid; it was asked once to repair it. "
                    : "The repaired plan was still invalid; Orchflow's deterministic planner made the plan instead. ") +
                "Problems: " + string.Join(" ", errors)));
            request = request with { Repair = new PlanRepair(Truncate(reply.Value), errors) };
        }

        using (StartSpan("orchflow.plan.fallback"))
        {
            var fallback = DeterministicPlanner.Plan(DeterministicPlanner.WithFeedback(definition, review?.Feedback), agents);
            return Planned(span, "fallback",
                new PlanResult(HumanGates.Apply(fallback with { PlannedBy = $"{DeterministicPlanner.Name} (fallback)" }, definition.HumanGates), usage, events));
        }
    }

    /// <summary>Parses and validates one answer, in a span that tells whether it was valid and how many problems it had, not which.</summary>
    static (IReadOnlyList<PlannedTask>? Tasks, IReadOnlyList<string> Errors) Validate(
        string answer, RunDefinition definition, IReadOnlyList<AgentSpec> agents, int attempt)
    {
        using var span = StartSpan("orchflow.plan.validate");
        var (tasks, errors) = PlanJson.Parse(answer);
        if (tasks is not null)
        {
            errors = PlanValidator.Validate(tasks, definition, agents);
        }

        span?.SetTag(Tags.PlanAttempt, attempt);
        span?.SetTag(Tags.PlanValid, errors.Count == 0);
        span?.SetTag(Tags.PlanErrorCount, errors.Count);
        return (tasks, errors);
    }

    PlanResult Planned(System.Diagnostics.Activity? span, string outcome, PlanResult result)
    {
        span?.SetTag(Tags.PlanOutcome, outcome);
        span?.SetTag(Tags.PlanTaskCount, result.Plan.Tasks.Count);
        return result with { Events = [.. result.Events, NoteOf(result.Plan)] };
    }

    /// <summary>What the plan is, in a sentence or two: who does how much, and how much runs at once.</summary>
    public RunEvent NoteOf(RunPlan plan)
    {
        var depth = new Dictionary<string, int>();
        foreach (var task in plan.Tasks)
        {
            // Tasks come after what they depend on, so each depth is known when it is needed.
            depth[task.TaskId] = task.DependsOn.Select(d => depth.GetValueOrDefault(d) + 1).DefaultIfEmpty(0).Max();
        }

        var widest = plan.Tasks.Where(t => t.Kind == TaskKind.Agent).GroupBy(t => depth[t.TaskId]).MaxBy(g => g.Count())?.ToList() ?? [];
        var humans = plan.Tasks.Where(t => t.Kind == TaskKind.Human).Select(t => t.TaskId).ToList();
        var agents = plan.Tasks.Where(t => t.Kind == TaskKind.Agent).GroupBy(t => t.Agent).Select(g => $"{g.Key} {g.Count()}");
        var message = $"Planned by {plan.PlannedBy}: {plan.Tasks.Count} tasks, " +
                      (humans.Count > 0 ? $"{humans.Count} for a person ({string.Join(", ", humans)}) and " : "") +
                      $"{plan.Tasks.Count - humans.Count} for agents ({string.Join(", ", agents)}). " +
                      (widest.Count > 1
                          ? $"At most {widest.Count} run at once ({string.Join(", ", widest.Select(t => t.TaskId))}); "
                          : "They run one after another; ") +
                      $"the final output is written when every task is done.";
        return new RunEvent("planned", clock.GetUtcNow(), RunEventKinds.Planned, message);
    }

    /// <summary>Shortens an echoed answer without splitting a surrogate pair, which providers reject as invalid text.</summary>
    static string Truncate(string answer)
    {
        if (answer.Length <= MaxEchoedAnswer)
        {
            return answer;
        }

        var end = char.IsHighSurrogate(answer[MaxEchoedAnswer - 1]) ? MaxEchoedAnswer - 1 : MaxEchoedAnswer;
        return answer[..end] + "…";
    }
}
