using System.Diagnostics;
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Extensions.Tasks;
using ModelContextProtocol.Protocol;

namespace Orchflow.Bench;

public sealed partial class BenchRun
{
    /// <summary>
    /// Orchflow as an MCP server: runs started with <c>start_run</c> as MCP tasks by the official C# SDK's client, each
    /// waiting on its human task as an input request; then each input response (<c>tasks/update</c>) timed until the run
    /// goes on: a task that waited for the answer has started (its <c>started_at</c>), and until the client's
    /// <c>tasks/get</c> (every 10 ms) shows the task working again.
    /// </summary>
    async Task McpPhaseAsync(CancellationToken cancellationToken) =>
        await WithHostAsync(0, async (host, api, token) =>
        {
            var key = await api.RegisterAsync(token);
            await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri($"http://127.0.0.1:{host.Port}/mcp"),
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["X-API-Key"] = key },
            }), cancellationToken: token);

            Say($"mcp: starting {options.McpRuns} runs as MCP tasks, each waiting on its human task");
            var runs = new List<string>();
            for (var i = 0; i < options.McpRuns; i++)
            {
                var call = await client.CallToolAsTaskAsync(new CallToolRequestParams
                {
                    Name = "start_run",
                    Arguments = new Dictionary<string, JsonElement>
                    {
                        ["task"] = JsonSerializer.SerializeToElement(options.HumanGoal),
                        ["ask_me_about"] = JsonSerializer.SerializeToElement(new[] { HumanTopic }),
                    },
                }, token);
                runs.Add(call.TaskCreated?.TaskId ?? throw new InvalidOperationException("start_run did not run as an MCP task."));
            }

            Sample started = new(), working = new();
            foreach (var runId in runs)
            {
                var waiting = (InputRequiredTaskResult)await PollTaskAsync(client, runId, s => s.Status == McpTaskStatus.InputRequired, token);
                var requestKey = waiting.InputRequests!.Keys.Single();
                var before = await api.GetRunAsync(key, runId, token);
                var dependents = before.Subtasks.Values.Where(t => t.DependsOn.Contains(requestKey)).Select(t => t.TaskId).ToList();
                await Task.Delay(options.McpGap, token);

                var sent = DateTimeOffset.UtcNow;
                var clock = Stopwatch.StartNew();
                await client.UpdateTaskAsync(new UpdateTaskRequestParams
                {
                    TaskId = runId,
                    InputResponses = new Dictionary<string, InputResponse>
                    {
                        [requestKey] = InputResponse.FromElicitResult(new ElicitResult
                        {
                            Action = "accept",
                            Content = new Dictionary<string, JsonElement> { ["company_details"] = JsonSerializer.SerializeToElement("A workflow API for AI apps.") },
                        }),
                    },
                }, token);
                await PollTaskAsync(client, runId, s => s.Status != McpTaskStatus.InputRequired, token);
                working.Add(clock.Elapsed.TotalMilliseconds);
                var after = await api.WaitAsync(key, runId, r => dependents.Any(d => r.Subtasks[d].HasStarted),
                    TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(60), token);
                started.Add((dependents.Select(d => after.Subtasks[d].StartedAt).Where(s => s is not null).Min()!.Value - sent).TotalMilliseconds);
            }

            results.Mcp = new McpResult(started, working);
            Say($"mcp: input response → a waiting task started p50 {started.Median:0} ms (p99 {started.P99:0}); " +
                $"→ tasks/get shows it working p50 {working.Median:0} ms (p99 {working.P99:0})");
        }, cancellationToken);

    static async Task<GetTaskResult> PollTaskAsync(McpClient client, string taskId, Func<GetTaskResult, bool> done, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var state = await client.GetTaskAsync(taskId, cancellationToken);
            if (done(state))
            {
                return state;
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"MCP task {taskId} stayed {state.Status} ({state.StatusMessage}).");
            }

            await Task.Delay(10, cancellationToken);
        }
    }
}
