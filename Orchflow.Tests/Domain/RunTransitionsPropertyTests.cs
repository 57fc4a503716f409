using Orchflow.Domain;

namespace Orchflow.Tests.Domain;

/// <summary>
/// Properties of <see cref="RunTransitions"/> over thousands of seeded random sequences of requests, from the engine and
/// from people, fit and unfit, in any order: after every decision the status rule holds both ways, the run's log
/// replayed says exactly where the run stands, an ended run moves only by a retry, a completed run has completed every
/// task, and a completed task stays so unless a new plan replaced it or its answer is taken back.
/// </summary>
[TestFixture]
public sealed class RunTransitionsPropertyTests
{
    const int Sequences = 3_000;
    const int Steps = 60;

    static readonly DateTimeOffset Start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Test]
    public void AnySequenceOfRequests_AfterEveryDecision_KeepsEveryRuleOfTheStates()
    {
        var problems = new List<string>();
        var reached = new HashSet<RunStatus>();
        for (var seed = 0; seed < Sequences && problems.Count < 5; seed++)
        {
            if (Play(seed, reached) is { } problem)
            {
                problems.Add($"seed {seed}: {problem}");
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(problems, Is.Empty);
            Assert.That(reached, Is.EquivalentTo(Enum.GetValues<RunStatus>()), "the sequences reach every status");
        });
    }

    static string? Play(int seed, HashSet<RunStatus> reached)
    {
        var random = new Random(seed);
        var run = new RunState { RunId = "run_p", AccountId = "acc_p", Status = RunStatus.Queued, RequirePlanApproval = random.Next(3) == 0 };
        var log = new List<RunLogEntry> { new(1, EventTypes.RunQueued, Start, null, []) };
        var steps = new List<string>();
        for (var step = 0; step < Steps; step++)
        {
            var now = Start.AddSeconds(step);
            var (name, decision) = Request(run, random, now);
            steps.Add(name);
            if (decision.After is not { } after)
            {
                continue;
            }

            foreach (var e in decision.Events)
            {
                log.Add(new RunLogEntry(log.Count + 1, e.Type, now, e.TaskId, e.Data));
            }

            if (Broken(run, after, log, takesBackAnAnswer: name.StartsWith("reopen", StringComparison.Ordinal)) is { } broken)
            {
                return $"{broken} after [{string.Join(", ", steps)}]";
            }

            run = after;
            reached.Add(run.Status);
        }

        return null;
    }

    /// <summary>What the change from <paramref name="before"/> to <paramref name="after"/> breaks, if anything.</summary>
    static string? Broken(RunState before, RunState after, List<RunLogEntry> log, bool takesBackAnAnswer)
    {
        if (after.StatusRuleViolation() is { } violation)
        {
            return violation;
        }

        var standing = RunLog.StandingAt(log, log.Count);
        if (standing.Status != after.Status || !standing.WaitingOn.SequenceEqual(after.WaitingOn))
        {
            return $"the log says {standing.Status} waiting on [{string.Join(", ", standing.WaitingOn)}], the run is {after.Status} " +
                   $"waiting on [{string.Join(", ", after.WaitingOn)}]";
        }

        if (before.Status.IsTerminal() && after.Attempt == before.Attempt)
        {
            return $"an ended run ({before.Status}) changed without a retry";
        }

        if (after.Status == RunStatus.Completed && after.Tasks.Any(t => t.State != TaskState.Completed))
        {
            return "completed with a task still open";
        }

        // A new plan replaces the tasks of the one sent back, and an answer the run never heard is taken back.
        return before.Tasks.FirstOrDefault(t => t.State == TaskState.Completed && after.Task(t.TaskId) is { State: not TaskState.Completed }) is { } undone &&
               before.PlannedRound == after.PlannedRound && before.PlanApproved == after.PlanApproved && !takesBackAnAnswer
            ? $"completed task {undone.TaskId} became {after.Task(undone.TaskId)!.State}"
            : null;
    }

    /// <summary>A request anyone might make now, chosen at random among those that name something the run has.</summary>
    static (string Name, Decision Decision) Request(RunState run, Random random, DateTimeOffset now)
    {
        var task = run.Tasks.Count == 0 ? "T1" : run.Tasks[random.Next(run.Tasks.Count)].TaskId;
        var attempt = random.Next(8) == 0 ? run.Attempt + 1 : run.Attempt;
        var calls = run.Tasks.SelectMany(t => t.ToolCalls).ToList();
        var call = calls.Count > 0 ? calls[random.Next(calls.Count)].CallId : "tc_none";

        return random.Next(21) switch
        {
            19 => ($"pause {task} on the budget", RunTransitions.PauseForBudget(run with { Budget = new RunBudget(MaxTokens: 1) }, attempt,
                random.Next(3) == 0 ? null : task, BudgetPart.Tokens)),
            20 => ("raise the budget", RunTransitions.RaiseBudget(run, new RunBudget(MaxTokens: random.Next(2) == 0 ? 1 : 1_000_000))),
            15 => ($"ask tools in {task}", RunTransitions.AskTools(run, attempt, task, (run.Task(task)?.ToolCalls.Count ?? 0) + 1,
                [new ToolCallAsk($"tc_{random.Next(1000)}", "m", "send", "{}", random.Next(2) == 0, null)], new TokenUsage(1, 1), now)),
            16 => ($"await approval of {call}", RunTransitions.AwaitToolApproval(run, attempt, task, call, now)),
            17 => ($"dispatch {call}", RunTransitions.DispatchToolCall(run, attempt, task, call)),
            18 => ($"finish {call}", RunTransitions.FinishToolCall(run, attempt, task, call, random.Next(2) == 0 ? "Done." : null,
                random.Next(2) == 0 ? null : "Failed.", now)),
            0 => ("begin planning", RunTransitions.BeginPlanning(run, attempt)),
            1 => ("save a plan", RunTransitions.SavePlan(run, new PlanSave(attempt, run.PlanRound, Plan(random), new TokenUsage(1, 1), [],
                run.RequirePlanApproval && !run.PlanApproved))),
            2 => ("review the plan", RunTransitions.ReviewPlan(run, random.Next(3) switch
            {
                0 => new PlanVerdict(true, null, null),
                1 => new PlanVerdict(true, Plan(random).Tasks, null),
                _ => new PlanVerdict(false, null, "Shorter."),
            })),
            3 or 4 => ($"start ready tasks", RunTransitions.StartTasks(run, attempt,
                Pick(run, random, TaskKind.Human), Pick(run, random, TaskKind.Agent), now)),
            5 => ($"start {task}", RunTransitions.StartAgent(run, attempt, task, now)),
            6 or 7 => ($"finish {task}", RunTransitions.FinishAgent(run, attempt, task, new AgentResult("Out.", new TokenUsage(1, 2), random.Next(2) == 0), now)),
            8 or 9 => ($"answer {task}", RunTransitions.Answer(run, task, random.Next(5) switch
            {
                0 => new HumanAnswer(null, "An answer.", null),
                1 => new HumanAnswer(true, null, null),
                2 => new HumanAnswer(false, null, "Redo it."),
                3 => new HumanAnswer(false, "Both.", null),
                _ => new HumanAnswer(null, "An edit.", null),
            }, now)),
            10 => ($"reopen {task}", run.Task(task) is { } answered ? RunTransitions.Reopen(run, task, random.Next(2), answered) : Decision.Unchanged),
            11 => ("cancel", RunTransitions.Cancel(run, now, random.Next(2) == 0 ? null : attempt)),
            12 => ($"fail {task}", random.Next(2) == 0
                ? RunTransitions.Fail(run, attempt, "Boom.", random.Next(2) == 0 ? task : null, now)
                : RunTransitions.TimeOut(run, attempt, task, 60, now)),
            13 => ("retry", RunTransitions.Retry(run)),
            _ => random.Next(2) == 0
                ? ("begin the synthesis", RunTransitions.BeginSynthesis(run, attempt))
                : ("complete", RunTransitions.Complete(run, attempt, "Final.", new TokenUsage(1, 1))),
        };
    }

    /// <summary>Some of the run's pending tasks of one kind, as a batch might start them.</summary>
    static string[] Pick(RunState run, Random random, TaskKind kind) =>
        run.Tasks.Where(t => t.Kind == kind && t.State == TaskState.Pending && random.Next(2) == 0).Select(t => t.TaskId).ToArray();

    static RunPlan Plan(Random random) => new(Enumerable.Range(1, random.Next(1, 6))
        .Select(i => new PlannedTask(TaskIds.Of(i), $"Step {i}", "", random.Next(3) == 0 ? TaskKind.Human : TaskKind.Agent, null,
            i == 1 ? [] : [TaskIds.Of(i - 1)]))
        .ToList(), "test");
}
