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
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/v1/runs/{runId}/plan/review")] HttpRequest req,
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

        var run = Ids.LooksLike("run", runId) ? await runs.GetAsync(caller.AccountId, runId, cancellationToken) : null;
        if (run is null)
        {
            return RunsFunctions.RunNotFound(runId);
        }

        var v = new Validation();
        var feedback = v.Text("feedback", body!.Feedback, MaxFeedbackLength, required: false);
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

        var edited = v.IsValid && body.Plan is { } plan ? GivenPlans.Read(plan, v, run.Definition) : null;
        if (!v.IsValid)
        {
            return v.Problem();
        }

        if (!run.AwaitingPlanReview)
        {
            return NotWaiting(run);
        }

        var outcome = await runs.ReviewPlanAsync(caller.AccountId, runId, new PlanVerdict(run.PlanRound, body.Approved!.Value, edited, feedback),
            cancellationToken);
        switch (outcome.Result)
        {
            case PlanReviewResult.NotFound:
                return RunsFunctions.RunNotFound(runId);
            case PlanReviewResult.NotWaiting:
                return NotWaiting(outcome.Run!);
        }

        var shape = edited is null
            ? null
            : new PlanOutline(edited.Select(t => new TaskNode(t.TaskId, t.Kind, t.DependsOn)).ToList(), outcome.Run!.Usage);
        await durable.RaiseEventAsync(RunInput.InstanceOf(runId, run.Attempt), RunEvents.PlanReview(run.PlanRound),
            new PlanReviewReply(body.Approved.Value, shape, feedback), CancellationToken.None);
        log.LogInformation("Run {RunId}: plan round {Round} reviewed (approved {Approved}, edited {Edited})",
            runId, run.PlanRound, body.Approved.Value, edited is not null);
        return ApiResult.Ok(RunView.Of(outcome.Run!));
    }

    static ApiResult NotWaiting(RunRecord run) =>
        Problems.Conflict($"Run {run.RunId} is {run.Status.ToWire()} and not waiting on its plan; a plan can be reviewed only while the run waits on it.");
}
