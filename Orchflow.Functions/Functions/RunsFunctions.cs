using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Http;
using Orchflow.Functions.Http.Idempotency;
using Orchflow.Orchestrators;

namespace Orchflow.Functions.Functions;

/// <summary>Start, list, read and cancel runs.</summary>
public sealed partial class RunsFunctions(
    IRunStore runs,
    IRunEventStore events,
    IAccountStore accounts,
    IProviderStore providers,
    IOptions<EngineOptions> engine,
    TimeProvider clock,
    ILogger<RunsFunctions> log)
{
    public const int MaxTaskLength = 8000;
    public const int MaxAgents = 10;
    public const int MaxTopics = 10;
    public const int MaxTimeoutSeconds = 30 * 24 * 3600;

    [Function(nameof(StartRun))]
    [Idempotent]
    public async Task<IActionResult> StartRun(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/v1/runs")] HttpRequest req,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var (body, problem) = await RequestBody.ReadAsync<StartRunRequest>(req, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var (definition, validation) = Validate(body!);
        if (definition is null)
        {
            return validation.Problem();
        }

        var usesTrial = definition.ProviderId is null;
        if (!usesTrial && (!Ids.LooksLike("prv", definition.ProviderId) ||
                           await providers.GetAsync(caller.AccountId, definition.ProviderId!, cancellationToken) is null))
        {
            return Problems.NotFound($"Provider '{definition.ProviderId}' was not found.");
        }

        if (usesTrial && !await accounts.TryConsumeTrialRunAsync(caller.AccountId, cancellationToken))
        {
            return Problems.TrialExhausted();
        }

        var now = clock.GetUtcNow();
        var run = new RunRecord
        {
            RunId = Ids.NewRunId(now),
            AccountId = caller.AccountId,
            Status = RunStatus.Queued,
            Definition = definition,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var created = false;
        try
        {
            await runs.CreateAsync(run, CancellationToken.None);
            created = true;
            await RunInput.ScheduleAsync(durable, run, attempt: 0, engine.Value);
        }
        catch (Exception e)
        {
            // The run never started: it must not sit in queued forever, and the trial run it took goes back.
            log.LogError(e, "Run {RunId} could not be started", run.RunId);
            if (created)
            {
                await runs.ApplyAsync(new RunTransition(caller.AccountId, run.RunId, RunStatus.Failed, [],
                    Error: "Orchflow could not start this run; start it again."), CancellationToken.None);
            }

            if (usesTrial)
            {
                await accounts.RefundTrialRunAsync(caller.AccountId, CancellationToken.None);
            }

            throw;
        }

        log.LogInformation("Run {RunId} queued for account {AccountId}", run.RunId, caller.AccountId);
        return ApiResult.Accepted(RunView.Of(run), RunLocation(run.RunId));
    }

    [Function(nameof(ListRuns))]
    public async Task<IActionResult> ListRuns(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/v1/runs")] HttpRequest req,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var validation = new Validation();
        var limit = (int)Query.Long(req, "limit", 20, 1, 100, validation);
        var offset = (int)Query.Long(req, "offset", 0, 0, 1_000_000, validation);
        if (!validation.IsValid)
        {
            return validation.Problem();
        }

        var page = await runs.ListAsync(caller.AccountId, limit, offset, cancellationToken);
        return ApiResult.Ok(new RunListView(page.Runs.Select(RunSummaryView.Of).ToList(), limit, offset, page.Total));
    }

    [Function(nameof(GetRun))]
    public async Task<IActionResult> GetRun(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/v1/runs/{runId}")] HttpRequest req,
        string runId,
        CancellationToken cancellationToken)
    {
        if (await UnchangedAsync(req, runId, cancellationToken) is { } unchanged)
        {
            return unchanged;
        }

        var run = await FindAsync(req, runId, cancellationToken);
        return run is null ? RunNotFound(runId) : ApiResult.Ok(RunView.Of(run)).Tagged(ConditionalReads.RunTag(run.Version));
    }

    [Function(nameof(GetRunTasks))]
    public async Task<IActionResult> GetRunTasks(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/v1/runs/{runId}/tasks")] HttpRequest req,
        string runId,
        CancellationToken cancellationToken)
    {
        if (await UnchangedAsync(req, runId, cancellationToken) is { } unchanged)
        {
            return unchanged;
        }

        var run = await FindAsync(req, runId, cancellationToken);
        return run is null
            ? RunNotFound(runId)
            : ApiResult.Ok(new TaskListView(run.RunId, run.Tasks.Select(TaskView.Of).ToList())).Tagged(ConditionalReads.RunTag(run.Version));
    }

    /// <summary>
    /// The 304 (or 404) for a poller that sent If-None-Match, decided by the run's status as this process knows it
    /// (<see cref="IRunEventStore.RecentMarkAsync"/>) or by one point read of it; null when the body must be read and sent.
    /// </summary>
    async Task<ApiResult?> UnchangedAsync(HttpRequest req, string runId, CancellationToken cancellationToken)
    {
        if (req.Headers.IfNoneMatch.Count == 0 || !Ids.LooksLike("run", runId))
        {
            return null;
        }

        var mark = await events.RecentMarkAsync(ApiKeyAuthenticator.CallerOf(req).AccountId, runId, cancellationToken);
        if (mark is null)
        {
            return RunNotFound(runId);
        }

        var tag = ConditionalReads.RunTag(mark.Version);
        return ConditionalReads.Matches(req, tag) ? ConditionalReads.NotModified(tag) : null;
    }

    [Function(nameof(CancelRun))]
    public async Task<IActionResult> CancelRun(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "api/v1/runs/{runId}")] HttpRequest req,
        string runId,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        if (!Ids.LooksLike("run", runId))
        {
            return RunNotFound(runId);
        }

        var outcome = await runs.CancelAsync(caller.AccountId, runId, cancellationToken);
        switch (outcome.Result)
        {
            case CancelResult.NotFound:
                return RunNotFound(runId);
            case CancelResult.AlreadyFinished:
                return Problems.Conflict($"Run {runId} is already {outcome.Run!.Status.ToWire()}; only an unfinished run can be cancelled.");
        }

        // The projection already says cancelled; the event stops the orchestration from starting anything else.
        await durable.RaiseEventAsync(RunInput.InstanceOf(runId, outcome.Run!.Attempt), RunEvents.Cancel, new CancelRequest("cancelled by the client"),
            CancellationToken.None);
        log.LogInformation("Run {RunId} cancelled", runId);
        return ApiResult.Ok(RunView.Of(outcome.Run!));
    }

    internal static string RunLocation(string runId) => $"{FunctionCatalog.ApiBase}/runs/{runId}";

    internal static ApiResult RunNotFound(string runId) => Problems.NotFound($"Run '{runId}' was not found.");

    Task<RunRecord?> FindAsync(HttpRequest req, string runId, CancellationToken cancellationToken) =>
        Ids.LooksLike("run", runId)
            ? runs.GetRecentAsync(ApiKeyAuthenticator.CallerOf(req).AccountId, runId, cancellationToken)
            : Task.FromResult<RunRecord?>(null);

    internal static (RunDefinition? Definition, Validation Validation) Validate(StartRunRequest body)
    {
        var v = new Validation();
        var goal = v.Text("task", body.Task, MaxTaskLength, required: true);

        var agents = new List<AgentSpec>();
        if (body.Agents is { Count: > MaxAgents })
        {
            v.Add("agents", $"At most {MaxAgents} agents may be given.");
        }

        foreach (var (agent, i) in (body.Agents ?? []).Select((a, i) => (a, i)))
        {
            var field = $"agents[{i}]";
            if (agent is null)
            {
                v.Add(field, $"'{field}' must be an object with a name.");
                continue;
            }

            var name = v.Text(field + ".name", agent.Name, 64, required: true);
            var instructions = v.Text(field + ".instructions", agent.Instructions, 4000, required: false);
            if (name is null || name.Length == 0)
            {
                continue;
            }

            if (!AgentName().IsMatch(name))
            {
                v.Add(field + ".name", "An agent name is lower-case letters, digits, '-' or '_', starting with a letter.");
            }
            else if (AgentCatalog.Find(name) is null && string.IsNullOrEmpty(instructions))
            {
                v.Add(field + ".name", $"'{name}' is not a built-in agent ({string.Join(", ", AgentCatalog.BuiltIn.Select(t => t.Name))}); give it instructions to define it.");
            }
            else if (agents.Any(a => a.Name == name))
            {
                v.Add(field + ".name", $"Agent '{name}' is listed twice.");
            }
            else
            {
                agents.Add(new AgentSpec(name, string.IsNullOrEmpty(instructions) ? null : instructions));
            }
        }

        var topics = Texts(v, "ask_me_about", body.AskMeAbout, 200);
        var gates = Texts(v, "human_gates", body.HumanGates, 100);

        string? providerId = null;
        if (body.ProviderId is not null)
        {
            providerId = body.ProviderId.Trim();
            if (providerId.Length == 0)
            {
                v.Add("provider_id", "'provider_id' must not be empty; leave it out to use the managed trial.");
            }
            else
            {
                v.Text("provider_id", body.ProviderId, 64, required: true);
            }
        }

        if (body.HumanTimeoutSeconds is < 1 or > MaxTimeoutSeconds)
        {
            v.Add("human_timeout_seconds", $"'human_timeout_seconds' must be from 1 to {MaxTimeoutSeconds} (30 days).");
        }

        if (!v.IsValid)
        {
            return (null, v);
        }

        var definition = new RunDefinition(goal!, AgentCatalog.Resolve(agents), topics, gates, body.RequireApproval ?? false, providerId,
            body.HumanTimeoutSeconds, RequirePlanApproval: body.RequirePlanApproval ?? false);
        if (body.Plan is { } given)
        {
            // Checked against the run as asked for: its agents, and the ask_me_about topics the plan must ask.
            var tasks = GivenPlans.Read(given, v, definition);
            return tasks is null ? (null, v) : (definition with { Plan = tasks }, v);
        }

        return (definition, v);
    }

    static List<string> Texts(Validation v, string field, IReadOnlyList<string?>? items, int maxLength)
    {
        var texts = new List<string>();
        if (items is { Count: > MaxTopics })
        {
            v.Add(field, $"At most {MaxTopics} items may be given in '{field}'.");
            return texts;
        }

        foreach (var (item, i) in (items ?? []).Select((x, i) => (x, i)))
        {
            var text = v.Text($"{field}[{i}]", item, maxLength, required: true);
            if (text is { Length: > 0 } && !texts.Contains(text, StringComparer.OrdinalIgnoreCase))
            {
                texts.Add(text);
            }
        }

        return texts;
    }

    [GeneratedRegex("^[a-z][a-z0-9_-]*$")]
    private static partial Regex AgentName();
}
