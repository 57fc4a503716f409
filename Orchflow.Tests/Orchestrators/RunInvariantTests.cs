using Orchflow.Domain;
using Orchflow.Orchestrators;
using static Orchflow.Tests.Orchestrators.FakeRun;

namespace Orchflow.Tests.Orchestrators;

/// <summary>
/// The contract's status rule, checked after every write of many scripted runs, both ways: a live run is
/// <c>waiting_human</c> exactly when its plan waits for review, or no agent task runs and a task waits. The store and
/// the orchestrator agree on who waits: a task the store shows waiting has a human wait pending (or its draft is
/// written and not yet reported), and every human wait pending is for a task the store shows waiting. An ended run
/// shows a terminal status and leaves no timer pending. The runs include plans reviewed before they start (approved,
/// sent back and planned again, timed out), retried runs that go on from tasks already completed, and answers that
/// land before the orchestrator has heard of the draft they answer.
/// </summary>
// Beside another fixture: seconds of pure computation on in-memory runs, while hosted fixtures mostly wait.
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class RunInvariantTests
{
    const int SeedsPerEngine = 6;
    const int MaxSteps = 400;

    static readonly Dictionary<string, TaskNode[]> Plans = new()
    {
        ["DocsShape"] = [Human("T1"), Agent("T2"), Agent("T3"), Agent("T4", "T1", "T2", "T3"), Agent("T5", "T1", "T4"), Agent("T6", "T1", "T4"), Agent("T7", "T5", "T6")],
        ["Chain"] = [Agent("T1"), Agent("T2", "T1"), Agent("T3", "T2")],
        ["TwoHumans"] = [Human("T1"), Human("T2"), Agent("T3"), Agent("T4", "T1"), Agent("T5", "T2", "T3")],
        ["HumanLast"] = [Agent("T1"), Human("T2", "T1")],
        ["HumanInTheMiddle"] = [Agent("T1"), Human("T2", "T1"), Agent("T3", "T2")],
        ["Wide"] = [Agent("T1"), Agent("T2"), Agent("T3"), Agent("T4"), Agent("T5"), Agent("T6", "T1", "T2", "T3", "T4", "T5")],
    };

    static IEnumerable<string> PlanNames => Plans.Keys;

    /// <summary>Each engine as a fresh run, as a run whose plan is reviewed first, and as a retried run.</summary>
    static IEnumerable<(EngineSettings Engine, bool Resumed, int Seeds)> Engines() =>
        from approval in new[] { false, true }
        from timeout in new int?[] { null, 60 }
        from parallel in new[] { 1, 2, 8 }
        from variant in new[] { "fresh", "plan review", "resumed" }
        select (Engine(maxParallel: parallel, maxReviewRounds: 2, requireApproval: approval, humanTimeoutSeconds: timeout,
                requirePlanApproval: variant == "plan review"),
            variant == "resumed", variant == "fresh" ? SeedsPerEngine : SeedsPerEngine / 2);

    /// <summary>Every scenario played once, shared by the tests below: plan name → (engine and seed, violation or null, ending).</summary>
    static readonly Lazy<ILookup<string, (string Scenario, string? Violation, string Ending)>> Played = new(() => (
        from plan in Plans.Select((p, i) => (p.Key, p.Value, Index: i))
        from engine in Engines().Select((e, i) => (e.Engine, e.Resumed, e.Seeds, Index: i))
        from seed in Enumerable.Range(0, engine.Seeds)
        // Each scenario its own random sequence: with one seed for all, every run would make the same first moves.
        let result = Play(plan.Value, engine.Engine, engine.Resumed, seed + 1_000 * engine.Index + 100_000 * plan.Index)
        select (Plan: plan.Key, Result: ($"{engine.Engine}{(engine.Resumed ? " resumed" : "")} seed {seed}", result.Violation, result.Ending)))
        .ToLookup(r => r.Plan, r => r.Result));

    [TestCaseSource(nameof(PlanNames))]
    public void RunAsync_ScriptedScenarios_KeepTheStatusRuleAfterEveryWrite(string plan)
    {
        var violations = Played.Value[plan].Where(r => r.Violation is not null).Select(r => $"{r.Scenario}: {r.Violation}");

        Assert.That(violations, Is.Empty);
    }

    [Test]
    public void RunAsync_ScriptedScenarios_ReachEveryKindOfEnding()
    {
        var endings = Played.Value.SelectMany(p => p).Select(r => r.Ending).ToHashSet();

        // The scenarios are only as good as the paths they take: completion, every failure and both kinds of cancel.
        Assert.That(endings, Is.SupersetOf(new[]
        {
            "Completed", "Failed: agent", "Failed: timeout", "Failed: reviews", "Failed: projection", "Cancelled: event", "Cancelled: projection",
            "Failed: plan reviews", "Failed: plan timeout",
        }));
    }

    /// <summary>Plays one run with random (seeded, so repeatable) moves: the first violation, or null, and how the run ended.</summary>
    static (string? Violation, string Ending) Play(TaskNode[] plan, EngineSettings engine, bool resumed, int seed)
    {
        var random = new Random(seed);
        var run = new FakeRun();
        var moves = new List<string>();
        var tasks = resumed ? Resumed(plan, random) : plan;
        run.Start(engine, retried: resumed ? tasks : null);
        run.CompletePlan(new PlanOutline(tasks, PlanUsage, NeedsReview: engine.RequirePlanApproval));
        for (var step = 0; step < MaxSteps && !run.IsEnded; step++)
        {
            var options = Moves(run, plan, engine).ToList();
            var pick = random.Next(options.Sum(o => o.Weight));
            var (name, _, act) = options.First(o => (pick -= o.Weight) < 0);
            moves.Add(name);
            act();
            if (Violation(run) is { } violation)
            {
                return ($"{violation} after [{string.Join(", ", moves)}]; journal: {string.Join(" | ", run.Journal)}", "");
            }
        }

        if (!run.IsEnded)
        {
            return ($"still running after {MaxSteps} moves", "");
        }

        var outcome = run.Outcome();
        var cause = outcome.Status switch
        {
            RunStatus.Failed when outcome.Error!.Contains("recorded", StringComparison.Ordinal) => "projection",
            RunStatus.Failed when outcome.Error!.StartsWith("The plan was sent back", StringComparison.Ordinal) => "plan reviews",
            RunStatus.Failed when outcome.Error!.StartsWith("The plan was not reviewed", StringComparison.Ordinal) => "plan timeout",
            RunStatus.Failed when outcome.Error!.Contains("human_timeout_seconds", StringComparison.Ordinal) => "timeout",
            RunStatus.Failed when outcome.Error!.Contains("MaxReviewRounds", StringComparison.Ordinal) => "reviews",
            RunStatus.Failed => "agent",
            RunStatus.Cancelled => moves[^1] == "cancel" ? "event" : "projection",
            _ => null,
        };
        return (null, cause is null ? $"{outcome.Status}" : $"{outcome.Status}: {cause}");
    }

    static string? Violation(FakeRun run)
    {
        if (run.Fault is { } fault)
        {
            return $"the orchestrator threw {fault.GetType().Name}: {fault.Message}";
        }

        if (run.Violations.FirstOrDefault() is { } broken)
        {
            return broken;
        }

        if (run.IsEnded)
        {
            return !run.State.Status.IsTerminal() ? $"ended while the store shows {run.State.Status}"
                : run.PendingTimers.Any() ? "ended with a timer pending"
                : null;
        }

        if (run.State.Status.IsTerminal())
        {
            return null;
        }

        if (run.State.AwaitingBudget != run.WaitsOnBudget && !run.State.Tasks.Any(t => t.State == TaskState.Running) && !run.SynthesisInFlight)
        {
            return $"the store says the run {(run.State.AwaitingBudget ? "waits" : "does not wait")} on its budget, the orchestrator the other way";
        }

        var waits = run.PendingHumanWaits.Select(w => w.Split(':')[1]).ToHashSet();
        var waiting = run.State.Tasks.Where(t => t.State == TaskState.WaitingHuman).Select(t => t.TaskId).ToList();
        return waiting.FirstOrDefault(t => !waits.Contains(t) && !run.IsRecordedNotDelivered(t)) is { } unheard
                ? $"the store shows {unheard} waiting, and the orchestrator waits on no answer for it"
            : waits.FirstOrDefault(t => !waiting.Contains(t)) is { } stray
                ? $"the orchestrator waits on an answer for {stray}, which the store shows {run.StateOf(stray)}"
            : null;
    }

    /// <summary>A retried run's plan: some tasks completed in its first attempt, each only after what it depends on.</summary>
    static TaskNode[] Resumed(TaskNode[] plan, Random random)
    {
        var completed = new HashSet<string>();
        foreach (var task in plan)
        {
            if (task.DependsOn.All(completed.Contains) && random.Next(2) == 0)
            {
                completed.Add(task.TaskId);
            }
        }

        return plan.Select(t => completed.Contains(t.TaskId) ? t with { State = TaskState.Completed } : t).ToArray();
    }

    /// <summary>What could happen next, weighted so that most runs get far before something ends them.</summary>
    static IEnumerable<(string Name, int Weight, Action Act)> Moves(FakeRun run, TaskNode[] plan, EngineSettings engine)
    {
        var planWait = run.Waits.LastOrDefault(w => w.StartsWith("plan:", StringComparison.Ordinal));
        if (planWait is not null && !run.IsRaised(planWait))
        {
            var round = int.Parse(planWait["plan:".Length..], System.Globalization.CultureInfo.InvariantCulture);
            // Sent back often enough that some runs use up their review rounds; while the plan waits, the only timer is its own.
            yield return ("approve the plan", 6, () => run.ReviewPlan(round, new PlanReviewReply(true)));
            yield return ("send the plan back", 14, () => run.ReviewPlan(round, new PlanReviewReply(false, Feedback: "Shorter.")));
            if (run.PendingTimers.FirstOrDefault() is { } reviewTimer)
            {
                yield return ("let the plan's review time out", 2, reviewTimer.Fire);
            }
        }

        if (run.PlanInFlight)
        {
            var round = run.PlanInputs[^1].Round;
            yield return ("plan again", 30, () => run.CompletePlan(new PlanOutline(plan, PlanUsage, NeedsReview: true, ReviewRound: round)));
            yield return ("planning fails", 1, () => run.FailPlan("model unavailable"));
        }

        foreach (var taskId in run.AgentsInFlight.ToList())
        {
            if (run.IsRecordedNotDelivered(taskId))
            {
                yield return ($"report {taskId} done", 30, () => run.DeliverAgentResult(taskId));
                var round = run.State.Task(taskId)!.ReviewRound;
                if (run.StateOf(taskId) == TaskState.WaitingHuman)
                {
                    // An answer that lands before the orchestrator has heard of the draft it answers.
                    yield return ($"approve {taskId} early", 3, () => run.Answer(taskId, round, HumanDecision.Accepted));
                    yield return ($"reject {taskId} early", 2, () => run.Answer(taskId, round, HumanDecision.Rejected));
                }

                continue;
            }

            yield return ($"complete {taskId}", 20, () => run.CompleteAgent(taskId));
            yield return ($"write {taskId}'s result", 15, () => run.RecordAgentResult(taskId));
            yield return ($"ask an approved tool in {taskId}", 4, () => run.AskApprovedTool(taskId));
            yield return ($"pause {taskId} on the budget", 2, () => run.PauseOnBudget(taskId));
            yield return ($"fail {taskId}", 1, () => run.FailAgent(taskId, "model quota exceeded"));
        }

        foreach (var wait in run.PendingHumanWaits.Where(w => w.StartsWith("tool:", StringComparison.Ordinal)).ToList())
        {
            var taskId = wait.Split(':')[1];
            yield return ($"approve {taskId}'s tool call", 12, () => run.AnswerToolCall(taskId, approve: true));
            yield return ($"refuse {taskId}'s tool call", 6, () => run.AnswerToolCall(taskId, approve: false));
        }

        foreach (var wait in run.PendingHumanWaits.Where(w => w.StartsWith("human:", StringComparison.Ordinal)).ToList())
        {
            var parts = wait.Split(':');
            var (taskId, round) = (parts[1], int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture));
            yield return ($"accept {taskId}", 20, () => run.Answer(taskId, round, HumanDecision.Accepted));
            if (plan.Single(t => t.TaskId == taskId).Kind == TaskKind.Agent)
            {
                yield return ($"reject {taskId}", 15, () => run.Answer(taskId, round, HumanDecision.Rejected));
            }
        }

        foreach (var (timer, i) in run.PendingTimers.Select((t, i) => (t, i)).ToList())
        {
            yield return ($"fire timer {i}", 1, timer.Fire);
        }

        if (run.WaitsOnBudget)
        {
            yield return ("raise the budget", 20, () => run.RaiseBudget());
        }

        if (run.SynthesisInFlight)
        {
            yield return ("the synthesis pauses on the budget", 2, () => run.PauseOnBudget(null));
            yield return ("synthesize", 30, () => run.CompleteSynthesis());
            yield return ("synthesis finds the run ended", 1, () => run.CompleteSynthesis(completed: false));
        }

        if (!run.IsRaised(RunEvents.Cancel))
        {
            yield return ("cancel", 1, run.Cancel);
        }

        if (!run.State.Status.IsTerminal())
        {
            yield return ("end in the projection", 1, run.EndInTheProjection);
            yield return ("break the projection", 1, () => run.RecordFailure = r => r.Kind == RunChangeKind.Fail ? null : "table unavailable");
        }
    }
}
