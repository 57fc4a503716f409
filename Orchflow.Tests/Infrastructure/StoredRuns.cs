using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>Runs the store tests start from: new, or taken through planning as the engine does it.</summary>
static class StoredRuns
{
    public static RunRecord New(string accountId, DateTimeOffset at) => RunRecord.Queued(Ids.NewRunId(at), accountId,
        new RunDefinition("Research competitors, then write a report.", [new AgentSpec("research"), new AgentSpec("writer", "Be brief.")],
            ["company details"], ["publish"], false, null, 3600), at);

    /// <summary>
    /// A run planned with a human task T1 and agent tasks T2…Tn (T2 free to start, each later one after T1 and the one
    /// before); then, unless told otherwise, T1 waiting for its person and T2 running.
    /// </summary>
    public static async Task<(string AccountId, string RunId)> CreatePlannedAsync(TableRunStore store, int taskCount = 4, bool start = true)
    {
        var account = Ids.NewAccountId();
        var run = New(account, DateTimeOffset.UtcNow);
        await store.CreateAsync(run, CancellationToken.None);
        Assert.That(await store.BeginPlanningAsync(account, run.RunId), Has.Property(nameof(RunChange.Refusal)).Null);
        var tasks = new List<PlannedTask> { new("T1", "Provide context", "Context from a person", TaskKind.Human, null, [], "What do you know?") };
        for (var i = 2; i <= taskCount; i++)
        {
            tasks.Add(new PlannedTask(TaskIds.Of(i), $"Step {i}", $"Do step {i}", TaskKind.Agent, "research", i == 2 ? [] : ["T1", TaskIds.Of(i - 1)]));
        }

        Assert.That(await store.SavePlanAsync(account, run.RunId, new RunPlan(tasks, "test"), usage: new TokenUsage(1, 2)),
            Has.Property(nameof(RunChange.Refusal)).Null);
        if (start)
        {
            Assert.That(await store.StartAsync(account, run.RunId, ["T1"], ["T2"]), Has.Property(nameof(RunChange.Refusal)).Null);
        }

        return (account, run.RunId);
    }

    /// <summary>Every task of a run made by <see cref="CreatePlannedAsync"/> done, as its person and agents would: ready for its synthesis.</summary>
    public static async Task FinishEveryTaskAsync(TableRunStore store, string accountId, string runId)
    {
        var run = (await store.GetAsync(accountId, runId, CancellationToken.None))!;
        await store.AnswerAsync(accountId, runId, "T1", new HumanAnswer(null, "What we know.", null));
        foreach (var task in run.Tasks.Skip(1))
        {
            await store.StartAsync(accountId, runId, [], [task.TaskId]);
            Assert.That(await store.FinishAsync(accountId, runId, task.TaskId, $"Output of {task.TaskId}."), Has.Property(nameof(RunChange.Refusal)).Null);
        }
    }

    /// <summary>
    /// A text of the given length mixing one-, two- and three-byte UTF-8 characters and surrogate pairs, with a pair at
    /// index 29,999 (straddling the first 30,000-character chunk boundary) and one at the very end.
    /// </summary>
    public static string LongText(int length, char marker)
    {
        const string pattern = "Orchflow é中€ß—ünï ";
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = i % 97 == 0 ? marker : pattern[i % pattern.Length];
        }

        foreach (var at in new[] { 29_999, 12_345, length - 2 }.Where(i => i >= 0 && i + 1 < length))
        {
            chars[at] = '\uD83D'; // 😀
            chars[at + 1] = '\uDE00';
        }

        return new string(chars);
    }
}
