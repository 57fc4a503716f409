using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Http;
using Orchflow.Functions.Streaming;

namespace Orchflow.Functions.Functions;

/// <summary>A run's event log: a page of it as JSON, or the live stream with <c>Accept: text/event-stream</c>.</summary>
public sealed class RunEventsFunctions(
    IRunEventStore events, RunEventHub hub, StreamQuota quota, IOptions<StreamOptions> streams, IHostApplicationLifetime lifetime)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    [Function(nameof(GetRunEvents))]
    public async Task<IActionResult> GetRunEvents(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionCatalog.Api + "/runs/{runId}/events")] HttpRequest req,
        string runId,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var validation = new Validation();
        var after = Query.Long(req, "after", 0, 0, int.MaxValue, validation);
        var limit = (int)Query.Long(req, "limit", DefaultLimit, 1, MaxLimit, validation);
        var stream = WantsStream(req);
        var output = Query.Flag(req, "output", true, validation);
        if (stream && req.Headers["Last-Event-ID"] is { Count: > 0 } lastId)
        {
            // A reconnecting client says where it was; that wins over the query it first connected with.
            if (!long.TryParse(lastId[0], out after) || after is < 0 or > int.MaxValue)
            {
                validation.Add("Last-Event-ID", "'Last-Event-ID' must be the id of an event: a whole number from 0.");
            }
        }

        if (!validation.IsValid)
        {
            return validation.Problem();
        }

        if (!Ids.LooksLike("run", runId))
        {
            return RunsFunctions.RunNotFound(runId);
        }

        if (stream)
        {
            // Where the run stood as this process last learned it within the read freshness window, as for a poll: a
            // stream opened as its run starts costs storage nothing, and what the mark missed comes down the stream. An
            // end is confirmed in storage before the client is told to stop (a retry may have taken the run up since).
            var mark = await events.RecentMarkAsync(caller.AccountId, runId, cancellationToken);
            if (mark is { } recent && recent.Status.IsTerminal() && recent.Sequence <= after)
            {
                mark = await events.MarkAsync(caller.AccountId, runId, cancellationToken);
            }

            if (mark is null)
            {
                return RunsFunctions.RunNotFound(runId);
            }

            // An ended run with nothing after what the client has: 204 tells an EventSource to stop reconnecting.
            if (mark.Status.IsTerminal() && mark.Sequence <= after)
            {
                return new ApiResult(StatusCodes.Status204NoContent, null);
            }

            return quota.TryOpen(caller.AccountId) is { } permit
                ? new RunEventStream(hub, runId, after, output, streams.Value, permit, lifetime.ApplicationStopping)
                : Problems.TooManyStreams(quota.Limit);
        }

        // A poller that has the latest page is answered by the run's mark alone, without reading the log.
        if (req.Headers.IfNoneMatch.Count > 0 && await events.RecentMarkAsync(caller.AccountId, runId, cancellationToken) is { } known
            && ConditionalReads.EventsTag(known.Sequence) is var latest && ConditionalReads.Matches(req, latest))
        {
            return ConditionalReads.NotModified(latest);
        }

        var page = await events.ListAsync(caller.AccountId, runId, after, limit, cancellationToken);
        if (page is null)
        {
            return RunsFunctions.RunNotFound(runId);
        }

        var tag = ConditionalReads.EventsTag(page.Mark.Sequence);
        if (ConditionalReads.Matches(req, tag))
        {
            return ConditionalReads.NotModified(tag);
        }

        var next = page.Events.Count > 0 ? page.Events[^1].Sequence : after;
        return ApiResult.Ok(new RunLogPageView(runId, page.Events.Select(RunLogEntryView.Of).ToList(), next)).Tagged(tag);
    }

    static bool WantsStream(HttpRequest req) =>
        MediaTypeHeaderValue.TryParseList(req.Headers.Accept, out var accepted) &&
        accepted.Any(a => a.MediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase));
}
