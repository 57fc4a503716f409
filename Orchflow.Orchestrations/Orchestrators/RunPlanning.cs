using Microsoft.DurableTask;
using Orchflow.Abstractions;
using Orchflow.Activities;
using Orchflow.Domain;

namespace Orchflow.Orchestrators;

/// <summary>
/// A run's way to a plan it may run: planned (or the client's own, or the one a retried run already has), then, when
/// the run asks for it, reviewed by a person — approved, edited, or sent back for the model to plan again with the
/// feedback, at most <see cref="EngineSettings.MaxReviewRounds"/> times, each wait bounded by the run's human timeout.
/// </summary>
static class RunPlanning
{
    /// <summary>The plan to run, or how the run ended on the way (cancelled, failed, out of review rounds or time).</summary>
    public static async Task<(PlanOutline? Plan, RunOutcome? Ended)> PlanAsync(
        TaskOrchestrationContext context, RunInput input, RunProjection run, Task<CancelRequest> cancel, TaskOptions retry)
    {
        var (outline, ended) = await PlanRoundAsync(context, input, run, cancel, retry, 0, null);
        for (var round = outline?.ReviewRound ?? 0; outline is { NeedsReview: true }; )
        {
            // The plan is shown while it is reviewed: should the run end here, its tasks end with it.
            run.Progress = new RunProgress(outline);
            using var timerCancel = new CancellationTokenSource();
            var reply = context.WaitForExternalEvent<PlanReviewReply>(RunEvents.PlanReview(round));
            var timeout = HumanWaits.Timer(context, input.Engine.HumanTimeoutSeconds, timerCancel.Token);
            var done = await Task.WhenAny(timeout is null ? [reply, cancel] : [reply, cancel, timeout]);
            timerCancel.Cancel();
            if (done == cancel)
            {
                return (null, await run.CancelAsync());
            }

            if (done == timeout)
            {
                return (null, await run.FailAsync(RunErrors.PlanNotReviewed(input.Engine.HumanTimeoutSeconds ?? 0)));
            }

            var verdict = await reply;
            if (verdict.Approved)
            {
                outline = (verdict.Edited ?? outline) with { NeedsReview = false };
                break;
            }

            if (++round > input.Engine.MaxReviewRounds)
            {
                return (null, await run.FailAsync(RunErrors.TooManyPlanReviews(input.Engine.MaxReviewRounds)));
            }

            (outline, ended) = await PlanRoundAsync(context, input, run, cancel, retry, round, verdict.Feedback);
        }

        return (outline, ended);
    }

    static async Task<(PlanOutline? Plan, RunOutcome? Ended)> PlanRoundAsync(
        TaskOrchestrationContext context, RunInput input, RunProjection run, Task<CancelRequest> cancel, TaskOptions retry, int round, string? feedback)
    {
        var planning = context.CallActivityAsync<PlanOutline?>(
            nameof(PlanRunActivity), new PlanInput(input.AccountId, input.RunId, input.Attempt, round, feedback), retry);
        if (await Task.WhenAny(planning, cancel) == cancel)
        {
            return (null, await run.CancelAsync());
        }

        try
        {
            // Null: the run ended (was cancelled) before its plan could be saved.
            return await planning is { } outline
                ? (outline, null)
                : (null, new RunOutcome(RunStatus.Cancelled));
        }
        catch (TaskFailedException e)
        {
            return (null, await run.FailAsync($"Planning failed: {e.FailureDetails.ErrorMessage}"));
        }
    }
}
