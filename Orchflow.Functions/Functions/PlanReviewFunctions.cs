using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Http;
using Orchflow.Functions.Http.Idempotency;
using Orchflow.Orchestrators;

namespace Orchflow.Functions.Functions;

/// <summary>A person reviews the plan a run waits on, before any agent starts: approve it, approve an edit, or send it back.</summary>
public sealed class PlanReviewFunctions(IRunStore runs, ILogger<PlanReviewFunctions> log)
{
    public const int MaxFeedbackLength = 4000;

    [Function(nameof(ReviewPlan))]
    [Idempotent]
    public async Task<IActionResult> ReviewPlan(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = FunctionCatalog.Api + "/runs/{runId}/plan/review")] HttpRequest req,
        string runId,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var (body, problem) = await RequestBody.ReadAsync<ReviewPlanRequest>(req, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        // The definition the edited plan is checked against never changes: a recent copy of the run serves.
        var run = Ids.LooksLike("run", runId) ? await runs.GetRecentAsync(caller.AccountId, runId, cancellationToken) : null;
        if (run is null)
        {
            return RunsFunctions.RunNotFound(runId);
        }

        var (verdict, validation) = Verdict(body!, run.Definition);
        if (verdict is null)
        {
            return validation.Problem();
        }

        var change = await runs.ChangeAsync(caller.AccountId, runId, (state, _) => RunTransitions.ReviewPlan(state, verdict), cancellationToken);
        if (change is null || change.Refusal is not null)
        {
            return change is null ? RunsFunctions.RunNotFound(runId) : Problems.Refused(change.Decision);
        }

        // The round reviewed names the event the run waits on; the edited plan's shape is what it runs.
        var round = change.Before.PlanRound;
        var shape = verdict.Plan is not { } edited ? null : new PlanOutline(edited.Select(t => new TaskNode(t.TaskId, t.Kind, t.DependsOn)).ToList(), change.Run.Usage);
        await durable.RaiseEventAsync(RunInput.InstanceOf(runId, change.Before.Attempt), RunEvents.PlanReview(round),
            new PlanReviewReply(verdict.Approved, shape, verdict.Feedback, change.Run.Version), CancellationToken.None);
        log.LogInformation("Run {RunId}: plan round {Round} reviewed (approved {Approved}, edited {Edited})", runId, round, verdict.Approved, shape is not null);
        return ApiResult.Ok(RunView.Of(change.Run));
    }

    /// <summary>The verdict as sent: approve (an edited plan checked like a given one), or send back with feedback.</summary>
    static (PlanVerdict? Verdict, Validation Validation) Verdict(ReviewPlanRequest body, RunDefinition definition)
    {
        var v = new Validation();
        var feedback = v.Text("feedback", body.Feedback, MaxFeedbackLength, required: false);
        switch (body.Approved)
        {
            case null:
                v.Add("approved", "'approved' is required: true to run the plan (with an edited 'plan' if you like), false with 'feedback' to have it planned again.");
                break;
            case false when body.Plan is not null:
                v.Add("plan", "Send an edited 'plan' with 'approved': true; with 'approved': false send 'feedback' only.");
                break;
            case false when string.IsNullOrEmpty(feedback):
                v.Add("feedback", "Sending the plan back needs 'feedback': what the planner should change.");
                break;
            case true when feedback is not null:
                v.Add("feedback", "'feedback' goes with 'approved': false; to change an approved plan, send it edited in 'plan'.");
                break;
        }

        var edited = v.IsValid && body.Plan is { } plan ? GivenPlans.Read(plan, v, definition) : null;
        return (v.IsValid ? new PlanVerdict(body.Approved!.Value, edited, feedback) : null, v);
    }
}
