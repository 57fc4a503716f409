using Microsoft.DurableTask;
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
        TaskOrchestrationContext context, RunInput input, RunRecorder run, Task<CancelRequest> cancel)
    {
        var (outline, ended) = await PlanRoundAsync(context, input, run, cancel, 0, null);
        for (var round = outline?.ReviewRound ?? 0; outline is { NeedsReview: true }; )
        {
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
                outline = (verdict.Edited ?? outline) with { NeedsReview = false, Version = RunVersions.Reached(outline.Version, verdict.Version) };
                break;
            }

            if (++round > input.Engine.MaxReviewRounds)
            {
                return (null, await run.FailAsync(RunErrors.TooManyPlanReviews(input.Engine.MaxReviewRounds)));
            }

            (outline, ended) = await PlanRoundAsync(context, input, run, cancel, round, verdict.Feedback);
        }

        return (outline, ended);
    }

    static async Task<(PlanOutline? Plan, RunOutcome? Ended)> PlanRoundAsync(
        TaskOrchestrationContext context, RunInput input, RunRecorder run, Task<CancelRequest> cancel, int round, string? feedback)
    {
        var planning = context.PlanAsync(new PlanInput(input.AccountId, input.RunId, input.Attempt, round, feedback));
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
            return (null, await run.FailAsync($"Planning failed: {FailureCauses.Of(e.FailureDetails)}"));
        }
    }
}
