using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Extensions.Tasks;
using ModelContextProtocol.Protocol;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Functions.Http;
using Orchflow.Functions.Runs;

namespace Orchflow.Functions.Mcp;

/// <summary>
/// The MCP tasks of <c>start_run</c>, which are runs: the task id is the run id, and everything a client reads of the
/// task is the run as stored (its status, the input requests of the tasks it waits on, its final output), so any
/// instance answers <c>tasks/get</c>, <c>tasks/update</c> and <c>tasks/cancel</c> and nothing is kept in memory.
/// Answers and cancels go through the same code as the HTTP API; a run of another account is an unknown task. The
/// tasks extension takes its store before the services exist, so this one finds them in the request it serves.
/// </summary>
public sealed class RunTaskStore : IMcpTaskStore
{
    static IServiceProvider Services => McpCall.Current.Services;

    static T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>Raised for each input response that answered a task; the run itself hears the answer through its orchestration.</summary>
    public event Action<InputResponseReceivedEventArgs>? InputResponseReceived;

    /// <summary>The run <c>start_run</c> started for this call, already stored, as its task.</summary>
    public Task<McpTaskInfo> CreateTaskAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(Info(McpTools.StartedRun ?? throw new InvalidOperationException("Only start_run runs as an MCP task, after starting its run.")));

    public async Task<McpTaskInfo?> GetTaskAsync(string taskId, CancellationToken cancellationToken = default) =>
        await FindAsync(taskId, cancellationToken) is { } run ? Info(run) : null;

    public async Task ResolveInputRequestsAsync(string taskId, IDictionary<string, InputResponse> inputResponses, CancellationToken cancellationToken = default)
    {
        var call = McpCall.Current;
        var run = await FindAsync(taskId, cancellationToken) ?? throw new McpProtocolException($"Unknown task: '{taskId}'", McpErrorCode.InvalidParams);
        foreach (var (key, response) in inputResponses)
        {
            // A response to a request that is no longer asked (answered meanwhile, through the API or an earlier update) answers nothing.
            if (InputRequests.TaskIdOf(key) is not { } id || run.Tasks.FirstOrDefault(t => t.TaskId == id) is not { State: TaskState.WaitingHuman } task ||
                InputRequests.KeyOf(task) != key || InputRequests.Answer(task, response.RawValue) is not { } body)
            {
                Get<ILogger<RunTaskStore>>().LogInformation("Run {RunId}: input response {Key} answers no request it waits on", run.RunId, key);
                continue;
            }

            var answered = await Get<TaskAnswers>().AnswerAsync(call.AccountId, run.RunId, task.TaskId, body, call.Durable, cancellationToken);
            if (answered.Status == 409)
            {
                continue;
            }

            if (answered.Status >= 400)
            {
                throw new McpProtocolException($"Input response '{key}': {Describe(answered)}", McpErrorCode.InvalidParams);
            }

            InputResponseReceived?.Invoke(new InputResponseReceivedEventArgs { TaskId = taskId, RequestId = key, Response = response });
        }
    }

    public async Task<bool> SetCancelledAsync(string taskId, CancellationToken cancellationToken = default)
    {
        var call = McpCall.Current;
        return (await Get<RunCancels>().CancelAsync(call.AccountId, taskId, call.Durable, cancellationToken)).Status == 200;
    }

    /// <summary>What start_run answered once it had started the run: the task's result is the run's, read when it ends.</summary>
    public Task SetCompletedAsync(string taskId, JsonElement result, CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <summary>The same, had start_run failed after its run started: the run, not the call, says how it ends.</summary>
    public Task SetFailedAsync(string taskId, JsonElement error, CancellationToken cancellationToken = default)
    {
        Get<ILogger<RunTaskStore>>().LogWarning("Run {RunId}: start_run failed after the run started; the run goes on", taskId);
        return Task.CompletedTask;
    }

    /// <summary>Orchflow's tools never ask the client anything themselves: a run's questions come from the tasks it waits on.</summary>
    public Task SetInputRequestsAsync(string taskId, IDictionary<string, InputRequest> inputRequests, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("Input requests of a run come from the tasks it waits on.");

    Task<RunRecord?> FindAsync(string taskId, CancellationToken cancellationToken) =>
        Ids.LooksLike("run", taskId)
            ? Get<IRunStore>().GetRecentAsync(McpCall.Current.AccountId, taskId, cancellationToken)
            : Task.FromResult<RunRecord?>(null);

    /// <summary>The run as an MCP task.</summary>
    static McpTaskInfo Info(RunRecord run)
    {
        var requests = InputRequests.Of(run);
        var (status, result) = run.Status switch
        {
            RunStatus.Completed or RunStatus.Failed => (McpTaskStatus.Completed, (JsonElement?)McpTools.Serialize(McpTools.Ended(run))),
            RunStatus.Cancelled => (McpTaskStatus.Cancelled, null),
            RunStatus.WaitingHuman when requests.Count > 0 => (McpTaskStatus.InputRequired, null),
            _ => (McpTaskStatus.Working, null),
        };
        return new McpTaskInfo(run.RunId, status, run.CreatedAt, run.UpdatedAt, TimeToLive: null, PollIntervalMs: Get<IOptions<McpOptions>>().Value.PollIntervalMs,
            StatusMessage: StatusMessage(run), Result: result, InputRequests: status == McpTaskStatus.InputRequired ? requests : null);
    }

    static string StatusMessage(RunRecord run) => run.Status switch
    {
        RunStatus.WaitingHuman when run.AwaitingPlanReview =>
            $"waiting_human: its plan waits for review (POST /api/v1/runs/{run.RunId}/plan/review)",
        RunStatus.WaitingHuman when run.AwaitingBudget =>
            $"waiting_human: its budget is spent (POST /api/v1/runs/{run.RunId}/budget raises it)",
        RunStatus.WaitingHuman => $"waiting_human on {string.Join(", ", run.WaitingOn)}",
        RunStatus.Failed => $"failed: {run.Error}",
        var status => status.ToWire(),
    };

    static string Describe(ApiResult refused) => refused.Body is Problem problem
        ? problem.Errors is { Count: > 0 } errors ? string.Join(" ", errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"))) : problem.Detail
        : $"refused ({refused.Status})";
}
