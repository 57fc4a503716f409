using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Domain;

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
        var usage = TokenUsage.Zero;
        var events = new List<RunEvent>();
        var request = new PlanningRequest(definition, agents, Review: review);
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var reply = await model.PlanAsync(request, cancellationToken);
            usage += reply.Usage;
            var (tasks, errors) = PlanJson.Parse(reply.Value);
            if (tasks is not null)
            {
                errors = PlanValidator.Validate(tasks, definition, agents);
            }

            if (errors.Count == 0)
            {
                var plannedBy = attempt == 1 ? model.Name : $"{model.Name} (repaired)";
                return new PlanResult(HumanGates.Apply(new RunPlan(tasks!, plannedBy), definition.HumanGates), usage, events);
            }

            log.LogWarning("Plan attempt {Attempt} by {Model} was invalid: {Errors}", attempt, model.Name, string.Join(" ", errors));
            events.Add(new RunEvent($"plan-{attempt}", clock.GetUtcNow(), attempt == 1 ? RunEventKinds.PlanRepair : RunEventKinds.PlanFallback,
                (attempt == 1
                    ? "The model's plan was invalid; it was asked once to repair it. "
                    : "The repaired plan was still invalid; Orchflow's deterministic planner made the plan instead. ") +
                "Problems: " + string.Join(" ", errors)));
            request = request with { Repair = new PlanRepair(Truncate(reply.Value), errors) };
        }

        var fallback = DeterministicPlanner.Plan(DeterministicPlanner.WithFeedback(definition, review?.Feedback), agents);
        return new PlanResult(HumanGates.Apply(fallback with { PlannedBy = $"{DeterministicPlanner.Name} (fallback)" }, definition.HumanGates), usage, events);
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
