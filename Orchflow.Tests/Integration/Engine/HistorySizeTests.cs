using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Engine;

/// <summary>
/// Outputs travel through orchestration history by reference only: a 20-task run whose agents each write at least
/// 100,000 characters keeps its Durable Task history (the task hub's History table on Azurite) small.
/// </summary>
[TestFixture]
public sealed class HistorySizeTests : HostedTests
{
    const int OutputChars = 100_000;

    /// <summary>
    /// The stated bound on one run's history: all its string and binary property values together. One output passed
    /// by value would take 100 KB; the ids, states and counts this run really passes take well under half of it.
    /// </summary>
    const int HistoryBoundBytes = 64 * 1024;

    /// <summary>Nineteen steps that all start with a verb the planner knows, plus <c>ask_me_about</c>: twenty tasks.</summary>
    const string Goal =
        "Research the market size, research the leading competitors, research their pricing pages, analyse customer reviews, " +
        "compare feature sets, extract pricing tiers, evaluate distribution channels, assess regulatory risks, define the " +
        "target segment, decide the positioning, estimate first-year revenue, prioritise the launch features, outline the " +
        "product roadmap, design the onboarding flow, draft the pricing page, write the launch announcement, prepare the " +
        "sales deck, create the support playbook, produce the launch checklist.";

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__Simulated__OutputChars"] = OutputChars.ToString(),
        ["Orchflow__Simulated__LatencyMs"] = "0",
        // Twenty padded outputs spend far more than a trial run's tokens: this measures history, not the trial's bound.
        ["Orchflow__Accounts__TrialTokens"] = "100000000",
    };

    [Test]
    public async Task StartRun_TwentyTasksOf100000CharOutputs_CompletesWithOutputsWholeAndHistoryUnderBound()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = Goal, ask_me_about = new[] { "company details" } })).Str("run_id");
        var waiting = await client.WaitForStatusAsync(runId, "waiting_human", TimeSpan.FromSeconds(120));
        Assert.That(RunGraph.Tasks(waiting), Has.Count.EqualTo(20), RunGraph.Describe(waiting));
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "Company: Orchflow, a workflow API." }), HttpStatusCode.OK);

        var done = await client.WaitForStatusAsync(runId, "completed", TimeSpan.FromSeconds(180));

        var tasks = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, $"runs/{runId}/tasks"), HttpStatusCode.OK)["tasks"]!.AsArray();
        var agents = RunGraph.OfKind(done, "agent");
        var history = await ReadFinishedHistoryAsync(runId);
        var lengths = AgentOutputLengths(history);
        Assert.Multiple(() =>
        {
            Assert.That(agents, Has.Count.EqualTo(19));
            foreach (var task in agents)
            {
                var id = RunGraph.Id(task);
                var output = task.Str("output");
                Assert.That(output, Has.Length.GreaterThanOrEqualTo(OutputChars), id);
                Assert.That(tasks.Single(t => t!.Str("task_id") == id)!.Str("output"), Is.EqualTo(output), $"{id} reads back differently from /tasks.");
                // The activity reports how long an output it wrote: the projection must hand back all of it.
                Assert.That(lengths.GetValueOrDefault(id), Is.EqualTo(output.Length), $"{id} was not stored whole.");
            }
        });

        var planBytes = PlanJsonBytes(tasks);
        var offloaded = history.SelectMany(r => r.Keys.Where(k => k.EndsWith("BlobName", StringComparison.Ordinal)).Select(k => $"{r.RowKey}.{k}")).ToList();
        var historyBytes = history.Sum(HistoryBytes);
        var largest = history.SelectMany(r => r.Where(p => !IsMetadata(p.Key)).Select(p => (Row: r.RowKey, p.Key, Bytes: ValueBytes(p.Value))))
            .MaxBy(p => p.Bytes);
        var samples = agents.Select(t => t.Str("output")).Select(o => o.Substring(o.Length / 2, 200)).ToList();
        await TestContext.Out.WriteLineAsync(
            $"History of {runId}: {history.Count} rows, {historyBytes:N0} bytes of string/binary values (bound {HistoryBoundBytes:N0}); " +
            $"largest value {largest.Bytes:N0} bytes ({largest.Row}.{largest.Key}); plan JSON {planBytes:N0} bytes for {tasks.Count} tasks; " +
            $"agent outputs {agents.Min(t => t.Str("output").Length):N0}..{agents.Max(t => t.Str("output").Length):N0} chars; " +
            $"final output {done.Str("final_output").Length:N0} chars.");
        Assert.Multiple(() =>
        {
            Assert.That(history.Select(r => r.GetString("EventType")), Does.Contain("ExecutionStarted").And.Contain("ExecutionCompleted"),
                "The History table was read for the wrong table or partition.");
            Assert.That(offloaded, Is.Empty, "The backend offloaded large history values to blobs: outputs went through history by value.");
            Assert.That(historyBytes, Is.LessThan(HistoryBoundBytes));
            foreach (var sample in samples)
            {
                Assert.That(history.Any(r => r.Select(p => p.Value).OfType<string>().Any(v => v.Contains(sample, StringComparison.Ordinal))), Is.False,
                    "A piece of an agent output is in the orchestration history.");
            }
        });
    }

    /// <summary>
    /// The run's history once the engine has written its end. The run reads as completed as soon as its projection
    /// says so, which the orchestration writes before its last history batch is committed.
    /// </summary>
    async Task<List<TableEntity>> ReadFinishedHistoryAsync(string runId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var history = await ReadHistoryAsync(runId);
            if (history.Any(r => r.GetString("EventType") == "ExecutionCompleted") || DateTime.UtcNow > deadline)
            {
                return history;
            }

            await Task.Delay(100);
        }
    }

    async Task<List<TableEntity>> ReadHistoryAsync(string runId)
    {
        // The Azure Storage backend keeps each instance's history in its own partition of <hub>History.
        var table = new TableClient(TestEnvironment.Azurite.ConnectionString, Host.TaskHub + "History");
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {runId}")))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>
    /// What each agent task's activity reported writing, from the history: a TaskScheduled row names the activity and
    /// carries its input (with the task id); the TaskCompleted row that points back at it carries the result.
    /// </summary>
    static Dictionary<string, int> AgentOutputLengths(IReadOnlyList<TableEntity> history)
    {
        var scheduled = history
            .Where(r => r.GetString("EventType") == "TaskScheduled" && r.GetString("Name") == "ExecuteAgentTaskActivity")
            .ToDictionary(r => r.GetInt32("EventId")!.Value, r => Member(r.GetString("Input"), "TaskId").GetString()!);
        return history
            .Where(r => r.GetString("EventType") == "TaskCompleted" && scheduled.ContainsKey(r.GetInt32("TaskScheduledId") ?? -1))
            .ToDictionary(r => scheduled[r.GetInt32("TaskScheduledId")!.Value], r => Member(r.GetString("Result"), "OutputLength").GetInt32());
    }

    /// <summary>
    /// A member of a JSON object in history, whatever casing the data converter gave it. Activity inputs are stored
    /// as a one-element array of arguments.
    /// </summary>
    static JsonElement Member(string? json, string name)
    {
        using var document = JsonDocument.Parse(json ?? throw new AssertionException($"History row without the JSON that holds {name}."));
        var root = document.RootElement.ValueKind == JsonValueKind.Array ? document.RootElement[0] : document.RootElement;
        var member = root.EnumerateObject().FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
        return member.Value.ValueKind == JsonValueKind.Undefined
            ? throw new AssertionException($"No '{name}' in history JSON {json}")
            : member.Value.Clone();
    }

    /// <summary>The plan as the orchestration needs it: the task list without outputs, times or usage.</summary>
    static int PlanJsonBytes(JsonArray tasks) => Encoding.UTF8.GetByteCount(new JsonArray(tasks.Select(t => (JsonNode)new JsonObject
    {
        ["task_id"] = t!["task_id"]!.DeepClone(),
        ["name"] = t["name"]!.DeepClone(),
        ["description"] = t["description"]?.DeepClone(),
        ["kind"] = t["kind"]!.DeepClone(),
        ["agent"] = t["agent"]?.DeepClone(),
        ["depends_on"] = t["depends_on"]!.DeepClone(),
        ["prompt"] = t["prompt"]?.DeepClone(),
    }).ToArray()).ToJsonString());

    static bool IsMetadata(string key) => key.StartsWith("odata.", StringComparison.Ordinal);

    static long HistoryBytes(TableEntity row) => row.Where(p => !IsMetadata(p.Key)).Sum(p => ValueBytes(p.Value));

    static long ValueBytes(object? value) => value switch
    {
        string s => Encoding.UTF8.GetByteCount(s),
        byte[] b => b.Length,
        BinaryData d => d.ToMemory().Length,
        _ => 0,
    };
}
