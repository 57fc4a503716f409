using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Integration.Engine;

namespace Orchflow.Tests.Support;

/// <summary>
/// Takes a run that waits on people to its end, as a person at the console would: each time the run rests on people
/// (<c>waiting_human</c>), every human task gets <see cref="HumanAnswer"/> and every draft the next verdict in line, or
/// an approval once the line is empty. Answers go through <see cref="Answer"/> and reads through <see cref="Wait"/>, so a
/// test can check each call on the way.
/// </summary>
public sealed class ApprovalDriver
{
    public const string HumanAnswer = "We build workflow APIs for small teams.";

    static readonly string[] Ended = ["completed", "failed", "cancelled"];

    readonly Queue<object> verdicts;

    /// <param name="verdicts">What the first drafts get, in order (a send-back, an edit…); the drafts after them are approved.</param>
    public ApprovalDriver(OrchflowClient client, string runId, params object[] verdicts)
    {
        this.verdicts = new Queue<object>(verdicts);
        Answer = async (taskId, verdict) => await client.CompleteAsync(runId, taskId, verdict);
        Wait = condition => client.WaitForRunAsync(runId, condition);
    }

    /// <summary>Sends one answer to a waiting task; it must be answered 200.</summary>
    public Func<string, object, Task<ApiResponse>> Answer { get; init; }

    /// <summary>Reads the run until the condition holds.</summary>
    public Func<Func<JsonNode, bool>, Task<JsonNode>> Wait { get; init; }

    /// <summary>
    /// What a draft gets, given its task and which of that task's drafts it is (1 for the first); null leaves it to the
    /// line of verdicts, then to an approval.
    /// </summary>
    public Func<string, int, object?> VerdictFor { get; init; } = (_, _) => null;

    /// <summary>Every answer sent, in order: the task and what it was sent.</summary>
    public List<(string TaskId, object Verdict)> Sent { get; } = [];

    /// <summary>Answers until the run has ended and returns it as it ended, failing unless it completed.</summary>
    public async Task<JsonNode> DriveToCompletionAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (DateTime.UtcNow < deadline)
        {
            var run = await Wait(r => r.Str("status") == "waiting_human" || Ended.Contains(r.Str("status")));
            if (run.Str("status") != "waiting_human")
            {
                Assert.That(run.Str("status"), Is.EqualTo("completed"), RunGraph.Describe(run));
                return run;
            }

            // An answered task shows its new state at once, so the next look sees only the tasks still to answer.
            foreach (var task in RunGraph.Tasks(run).Where(t => RunGraph.State(t) == "waiting_human"))
            {
                var taskId = RunGraph.Id(task);
                var draft = Sent.Count(s => s.TaskId == taskId) + 1;
                var verdict = task.Str("kind") == "human" ? new { output = HumanAnswer }
                    : VerdictFor(taskId, draft) ?? (verdicts.TryDequeue(out var next) ? next : new { approved = true });
                var response = await Answer(taskId, verdict);
                Assert.That(response.Status, Is.EqualTo(HttpStatusCode.OK), $"{taskId}: {response.Text}");
                Sent.Add((taskId, verdict));
            }
        }

        Assert.Fail("The run did not complete in time.");
        return null!;
    }
}
