using System.Diagnostics;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Models;

namespace Orchflow.Bench;

public sealed partial class BenchRun
{
    /// <summary>
    /// Agents that act: the same MCP call (server-everything's <c>echo</c>) through Orchflow's tool loop and straight from
    /// this process with the SDK's client; then calls a person approves, from the answer to the call reaching the
    /// server. The host's managed model is the bench's loopback model server, which asks for one call a turn.
    /// </summary>
    async Task ToolsPhaseAsync(CancellationToken cancellationToken)
    {
        await using var model = await FakeChatServer.StartAsync();
        await using var everything = await McpEverything.StartAsync();
        await using var approvals = await LoopbackMcpServer.StartAsync();
        await WithHostAsync(0, async (host, api, token) =>
        {
            var key = await api.RegisterAsync(token);
            var direct = await DirectToolCallsAsync(everything.Url, options.ToolCalls, token);
            var turnaround = await TurnaroundAsync(model, options.ToolCalls, token);
            var loop = await LoopToolCallsAsync(api, key, model, everything.Url, TimeSpan.Zero, token);
            var slowModel = await LoopToolCallsAsync(api, key, model, everything.Url, SlowerModel, token);
            var approval = await ApprovalsAsync(api, key, model, approvals, token);
            var (write, batch) = await StorageWritesAsync(new TableClient(host.ConnectionString, host.TablePrefix + "RunTasks"), loop.RunId, options.ToolCalls, token);
            results.Tools = new ToolsResult(loop.Sample, direct, approval, write, batch, turnaround) { LoopSlowerModel = slowModel.Sample };
            Say($"tools: echo through the loop {loop.Sample.Median:0.0} ms (p99 {loop.Sample.P99:0.0}), with the model at {SlowerModel.TotalMilliseconds:0} ms " +
                $"{slowModel.Sample.Median:0.0} ms, directly {direct.Median:0.0} ms (p99 {direct.P99:0.0}); " +
                $"one write {write.Median:0.0} ms, one batch {batch.Median:0.0} ms; the model's turnaround {turnaround.Median:0.0} ms; " +
                $"approval answered → call made {approval.Median:0} ms (p50)");
        }, cancellationToken, ManagedModel(model, "managed"));
    }

    /// <summary>
    /// A model that takes this long to answer each turn: still far quicker than a real one, but slower than a storage batch,
    /// which the loop writes while the model is asked.
    /// </summary>
    static readonly TimeSpan SlowerModel = TimeSpan.FromMilliseconds(5);

    /// <summary>The host settings with its managed model on the bench's model server, under <paramref name="path"/>.</summary>
    IReadOnlyDictionary<string, string> ManagedModel(FakeChatServer model, string path)
    {
        var settings = new Dictionary<string, string>(options.HostSettings)
        {
            ["Orchflow__ManagedModel__Provider"] = "openai_compatible",
            ["Orchflow__ManagedModel__Model"] = "bench-model",
            ["Orchflow__ManagedModel__Endpoint"] = new Uri(model.BaseUri, path + "/v1").ToString(),
            ["Orchflow__ManagedModel__ApiKey"] = "bench-model-key",
        };
        return settings;
    }

    /// <summary>One SDK client, connected once (as Orchflow's sessions are), calling echo one call at a time; the first call is a warm-up.</summary>
    static async Task<Sample> DirectToolCallsAsync(string url, int calls, CancellationToken cancellationToken)
    {
        var transport = new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(url), TransportMode = HttpTransportMode.StreamableHttp });
        await using var client = await McpClient.CreateAsync(transport, cancellationToken: cancellationToken);
        var sample = new Sample();
        for (var i = 0; i <= calls; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"bench {i}" }, cancellationToken: cancellationToken);
            if (i > 0)
            {
                sample.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        return sample;
    }

    /// <summary>
    /// The model's own part of each call in the loop, with no tool and no storage: Orchflow's model client, in this process,
    /// on the same model server and protocol (streamed, tools offered, every result sent back), giving each asked call a
    /// result at once and asking the next turn. Timed as the loop is, from the server's answer to the next request; the
    /// first turn is a warm-up.
    /// </summary>
    static async Task<Sample> TurnaroundAsync(FakeChatServer model, int calls, CancellationToken cancellationToken)
    {
        model.Reset();
        model.Responder = request => FakeReply.ToolCall(request.OfferedTools[0], new { message = $"bench {request.AskedToolCalls.Count}" });
        var settings = new ModelOptions();
        var target = ModelTarget.Create("openai_compatible", "bench-model", new Uri(model.BaseUri, "turnaround/v1").ToString(), "bench-model-key", "bench");
        using var http = new HttpClient();
        var client = new ChatRunModel(ChatRunModel.CreateChatClient(target, http, settings.RequestTimeout), target,
            new ModelCallPolicy(Options.Create(settings), TimeProvider.System, NullLogger<ModelCallPolicy>.Instance), settings.MaxOutputTokens);
        var agent = new AgentSpec("research");
        var request = new AgentTaskRequest("Echo what the bench asks for.", new PlannedTask("T1", "Echo", "Echo what is asked.", TaskKind.Agent, agent.Name, []),
            agent, AgentCatalog.SystemPromptFor(agent), []) { Output = new Discarded() };
        ToolDefinition[] echo = [new("mcs_0123456789abcdef/echo", "Echoes back the input.", """{"type":"object","properties":{"message":{"type":"string"}}}""")];
        var made = new List<ToolCall>();
        for (var i = 0; i <= calls; i++)
        {
            var asked = (await client.TurnAsync(request, echo, made, cancellationToken)).Value.Calls[0];
            made.Add(new ToolCall
            {
                CallId = $"tc_{i}", Step = i + 1, ModelCallId = asked.ModelCallId, Tool = asked.Tool, Arguments = asked.Arguments,
                State = ToolCallState.Completed, Result = asked.Arguments, StartedAt = DateTimeOffset.UtcNow,
            });
        }

        var turns = model.Requests.OrderBy(r => r.AskedToolCalls.Count).ToList();
        var sample = new Sample();
        sample.AddRange(turns.Zip(turns.Skip(1), (answered, next) => Stopwatch.GetElapsedTime(answered.AnsweredAt!.Value, next.ReceivedAt).TotalMilliseconds).Skip(1));
        return sample;
    }

    /// <summary>Live output with nobody to show it to.</summary>
    sealed class Discarded : ITextSink
    {
        public void Append(string text)
        {
        }

        public void Restart()
        {
        }
    }

    /// <summary>
    /// The storage writes the target is stated in, in a partition of their own in the table the loop writes (the host's
    /// run partitions), one at a time after a warm-up, the partition deleted after: the loop's last run's first call row
    /// upserted, and a batch of the rows an ask commits, copied from that run (its task row, that call row, one of its
    /// events added, its status row replaced over its ETag).
    /// </summary>
    static async Task<(Sample Write, Sample Batch)> StorageWritesAsync(TableClient table, string runId, int count, CancellationToken cancellationToken)
    {
        var partition = "benchwrites" + Guid.NewGuid().ToString("N")[..8];
        var (write, batch) = (new Sample(), new Sample());
        async Task<TableEntity> CopyAsync(string rowKey)
        {
            var row = (await table.GetEntityAsync<TableEntity>(runId, rowKey, cancellationToken: cancellationToken)).Value;
            var copy = new TableEntity(partition, rowKey);
            foreach (var (name, value) in row.Where(p => p.Key is not ("PartitionKey" or "RowKey" or "Timestamp" or "odata.etag")))
            {
                copy[name] = value;
            }

            return copy;
        }

        var (task, call, entry, statusRow) = (await CopyAsync("T1"), await CopyAsync("T1~call~001"), await CopyAsync("~~log~0000000005"), await CopyAsync("~status"));
        var status = (await table.UpsertEntityAsync(statusRow, cancellationToken: cancellationToken)).Headers.ETag!.Value;
        for (var i = 0; i <= count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await table.UpsertEntityAsync(call, TableUpdateMode.Replace, cancellationToken);
            var wrote = Stopwatch.GetTimestamp();
            entry.RowKey = $"~~log~{i:D10}";
            var landed = await table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, task),
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, call),
                new TableTransactionAction(TableTransactionActionType.Add, entry),
                new TableTransactionAction(TableTransactionActionType.UpdateReplace, statusRow, status),
            ], cancellationToken);
            status = landed.Value[3].Headers.ETag!.Value;
            if (i > 0)
            {
                write.Add(Stopwatch.GetElapsedTime(started, wrote).TotalMilliseconds);
                batch.Add(Stopwatch.GetElapsedTime(wrote).TotalMilliseconds);
            }
        }

        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == partition, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            await table.DeleteEntityAsync(partition, row.RowKey, ETag.All, cancellationToken);
        }

        return (write, batch);
    }

    /// <summary>
    /// Runs whose one agent task asks for echo once a turn until its calls are spent. Each call's time is from the model
    /// server's answer asking for it to the next turn's request carrying its result: the answer read, the call made, its
    /// ask and outcome recorded, the next request sent. A warm-up run first (the session's handshake). The model server
    /// answers each turn after <paramref name="modelDelay"/>.
    /// </summary>
    async Task<(Sample Sample, string RunId)> LoopToolCallsAsync(
        OrchflowApi api, string key, FakeChatServer model, string url, TimeSpan modelDelay, CancellationToken cancellationToken)
    {
        var serverId = await api.RegisterToolServerAsync(key, url, cancellationToken);
        var perRun = Math.Min(options.ToolCalls, 50);
        var runs = (options.ToolCalls + perRun - 1) / perRun;
        Say($"tools: {runs} run(s) of {perRun} echo calls through the loop, the model answering after {modelDelay.TotalMilliseconds:0} ms, after a warm-up run");
        await EchoRunAsync(2);
        var sample = new Sample();
        var last = "";
        for (var i = 0; i < runs; i++)
        {
            last = await EchoRunAsync(perRun);
            var turns = model.Requests.Where(r => r.TaskId == "T1").OrderBy(r => r.AskedToolCalls.Count).ToList();
            sample.AddRange(turns.Zip(turns.Skip(1), (asked, next) => Stopwatch.GetElapsedTime(asked.AnsweredAt!.Value, next.ReceivedAt).TotalMilliseconds));
        }

        return (sample, last);

        async Task<string> EchoRunAsync(int calls)
        {
            model.Reset();
            model.Responder = request => request.IsSynthesis || request.OfferedTools.Count == 0
                ? FakeReply.Chat("Echoed.")
                : FakeReply.ToolCall(request.OfferedTools[0], new { message = $"bench {request.AskedToolCalls.Count}" }).After(modelDelay);
            return await ToolRunAsync(api, key, new { tools = new[] { $"{serverId}/echo" }, max_tool_calls = calls }, cancellationToken);
        }
    }

    /// <summary>
    /// One run whose agent task asks for lookup once a turn, each call waiting for a person; each is approved as soon as it
    /// waits, and timed from the moment <c>/complete</c> is sent to the moment the call reaches the tool server.
    /// </summary>
    async Task<Sample> ApprovalsAsync(OrchflowApi api, string key, FakeChatServer model, LoopbackMcpServer mcp, CancellationToken cancellationToken)
    {
        var serverId = await api.RegisterToolServerAsync(key, mcp.Url, cancellationToken);
        var calls = options.ApprovalCalls;
        model.Reset();
        model.Responder = request => request.IsSynthesis || request.AskedToolCalls.Count >= calls
            ? FakeReply.Chat("Looked up.")
            : FakeReply.ToolCall(request.OfferedTools[0], new { q = $"approved {request.AskedToolCalls.Count}" });
        Say($"tools: {calls} calls approved by a person");
        var lookup = $"{serverId}/lookup";
        var run = await api.StartRunWithAsync(key, ToolRunBody(new { tools = new[] { lookup }, approve_tools = new[] { lookup }, max_tool_calls = calls }), cancellationToken);
        var sample = new Sample();
        for (var i = 0; i < calls; i++)
        {
            await api.WaitAsync(key, run.RunId, r => r.Subtasks.TryGetValue("T1", out var task) && task.PendingToolCall is not null, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(60), cancellationToken);
            var answered = Stopwatch.GetTimestamp();
            await api.ApproveToolCallAsync(key, run.RunId, "T1", cancellationToken);
            var q = $"approved {i}";
            var made = await UntilCalledAsync(mcp, q, cancellationToken);
            sample.Add(Stopwatch.GetElapsedTime(answered, made).TotalMilliseconds);
        }

        await api.WaitAsync(key, run.RunId, r => r.IsCompleted, TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(60), cancellationToken);
        return sample;
    }

    /// <summary>When lookup was called with <paramref name="q"/> (the server's clock), waiting for it.</summary>
    static async Task<long> UntilCalledAsync(LoopbackMcpServer mcp, string q, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (mcp.Requests.FirstOrDefault(r => r.Json?["method"]?.GetValue<string>() == "tools/call" &&
                                                 r.Json["params"]?["arguments"]?["q"]?.GetValue<string>() == q) is { } call)
            {
                return call.ReceivedAt;
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"The approved call '{q}' did not reach the tool server within 60 s.");
            }

            await Task.Delay(2, cancellationToken);
        }
    }

    /// <summary>Starts a run of one agent task with the given tool settings, waits until it completes, and gives its id.</summary>
    static async Task<string> ToolRunAsync(OrchflowApi api, string key, object tools, CancellationToken cancellationToken)
    {
        var run = await api.StartRunWithAsync(key, ToolRunBody(tools), cancellationToken);
        await api.WaitAsync(key, run.RunId, r => r.IsCompleted, TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(120), cancellationToken);
        return run.RunId;
    }

    /// <summary>A run of one agent task, T1, with <paramref name="tools"/>' members (tools, approve_tools, max_tool_calls) added.</summary>
    static Dictionary<string, object> ToolRunBody(object tools)
    {
        var body = new Dictionary<string, object>
        {
            ["task"] = "Echo what the bench asks for.",
            ["plan"] = new
            {
                tasks = new[] { new { task_id = "T1", name = "Call the tool", kind = "agent", agent = "research", depends_on = Array.Empty<string>() } },
            },
        };
        foreach (var property in tools.GetType().GetProperties())
        {
            body[property.Name] = property.GetValue(tools)!;
        }

        return body;
    }
}
