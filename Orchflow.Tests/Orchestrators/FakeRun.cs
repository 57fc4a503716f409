using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Moq.Protected;
using Orchflow.Activities;
using Orchflow.Domain;
using Orchflow.Models;
using Orchflow.Orchestrators;

namespace Orchflow.Tests.Orchestrators;

/// <summary>
/// Runs <see cref="RunOrchestrator"/> against a strict <see cref="TaskOrchestrationContext"/> mock whose activities,
/// events and timers are task completion sources the test completes by hand, in any order. Beside it the fake keeps
/// the run as the store would (<see cref="State"/>): every write an activity or an HTTP handler makes is decided by
/// <see cref="RunTransitions"/>, as the real ones do, and the contract's status rule is checked after each
/// (<see cref="Violations"/>), both ways.
/// </summary>
/// <remarks>
/// The sources run their continuations inline and the tests have no synchronization context, so each completion
/// drives the orchestrator until it is blocked again before the completing call returns: no waiting, no sleeping.
/// </remarks>
public sealed partial class FakeRun
{
    public const string AccountId = "acc_test";
    public const string RunId = "run_test";
    public static readonly DateTime Now = new(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc);
    public static readonly TokenUsage PlanUsage = new(10, 20);
    public static readonly TokenUsage AgentUsage = new(1, 2);

    readonly Mock<TaskOrchestrationContext> context = new(MockBehavior.Strict);
    readonly Dictionary<string, object> events = [];
    readonly HashSet<string> raised = [];
    readonly Dictionary<string, List<(AgentTaskInput Input, TaskCompletionSource<AgentTaskResult> Done)>> agentCalls = [];

    /// <summary>Agent results written and not yet reported back: whether each was recorded, and the run's version after it.</summary>
    readonly Dictionary<string, (bool Wrote, long Version)> recorded = [];
    readonly List<TaskCompletionSource<PlanOutline?>> plans = [];
    TaskCompletionSource<SynthesisResult> synthesis = new();
    RunInput? input;
    Task<RunOutcome>? outcome;

    public FakeRun()
    {
        context.SetupGet(c => c.InstanceId).Returns(RunId);
        context.SetupGet(c => c.IsReplaying).Returns(false);
        context.SetupGet(c => c.CurrentUtcDateTime).Returns(() => Clock);
        // The SDK's own replay-safe logger and relative timer run on top of the abstract members set up here.
        context.Setup(c => c.CreateReplaySafeLogger<RunOrchestrator>()).CallBase();
        context.Protected().SetupGet<ILoggerFactory>("LoggerFactory").Returns(NullLoggerFactory.Instance);
        context.Setup(c => c.CreateTimer(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>())).CallBase();
        context.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>()))
            .Returns((DateTime fireAt, CancellationToken token) => AddTimer(fireAt, token));

        context.Setup(c => c.CallActivityAsync<PlanOutline?>(Named(nameof(PlanRunActivity)), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? given, TaskOptions? _) =>
            {
                Journal.Add("plan");
                PlanInputs.Add((PlanInput)given!);
                plans.Add(new TaskCompletionSource<PlanOutline?>());
                return plans[^1].Task;
            });
        context.Setup(c => c.CallActivityAsync<AgentTaskResult>(Named(nameof(ExecuteAgentTaskActivity)), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? given, TaskOptions? _) => StartAgent((AgentTaskInput)given!));
        context.Setup(c => c.CallActivityAsync<bool>(Named(nameof(RecordRunChangeActivity)), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? given, TaskOptions? _) => Record((RunChangeRequest)given!));
        context.Setup(c => c.CallActivityAsync<SynthesisResult>(Named(nameof(SynthesizeRunActivity)), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? given, TaskOptions? _) =>
            {
                Journal.Add("synthesize");
                SynthesisInputs.Add((SynthesisInput)given!);
                synthesis = new TaskCompletionSource<SynthesisResult>();
                return synthesis.Task;
            });
        context.Setup(c => c.WaitForExternalEvent<HumanReply>(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns((string name, CancellationToken _) => Wait<HumanReply>(name));
        context.Setup(c => c.WaitForExternalEvent<CancelRequest>(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns((string name, CancellationToken _) => Wait<CancelRequest>(name));
        context.Setup(c => c.WaitForExternalEvent<PlanReviewReply>(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns((string name, CancellationToken _) => Wait<PlanReviewReply>(name));
    }

    /// <summary>Every call the orchestrator made, in order: "plan", "agent T2", "record StartTasks", "wait human:T1:0", "timer", "synthesize".</summary>
    public List<string> Journal { get; } = [];

    public List<PlanInput> PlanInputs { get; } = [];

    /// <summary>Every ExecuteAgentTaskActivity input, in the order they were scheduled.</summary>
    public List<AgentTaskInput> AgentStarts { get; } = [];

    /// <summary>Every change the orchestrator asked RecordRunChangeActivity to record, in order.</summary>
    public List<RunChangeRequest> Records { get; } = [];

    public List<SynthesisInput> SynthesisInputs { get; } = [];

    /// <summary>The names of the external events waited on, in order.</summary>
    public List<string> Waits { get; } = [];

    public List<FakeTimer> Timers { get; } = [];

    /// <summary>The run as the store holds it, every write decided by <see cref="RunTransitions"/>.</summary>
    public RunState State { get; private set; } = new() { RunId = RunId, AccountId = AccountId, Status = RunStatus.Queued };

    /// <summary>The run's version in the store: one more for each change that wrote.</summary>
    public long Version { get; private set; } = 1;

    /// <summary>
    /// Whether activities and replies report the run's version, as they do; false: they report none, as an Orchflow
    /// from before versions did in a history replayed now.
    /// </summary>
    public bool ReportsVersions { get; set; } = true;

    /// <summary>The version the last plan was saved at (or found saved), as PlanRunActivity reports it.</summary>
    public long PlannedAt { get; private set; }

    /// <summary>The version a result or reply reports, were it written now.</summary>
    long Reported => ReportsVersions ? Version : 0;

    /// <summary>Every break of the status rule seen after a write, with the journal at that moment.</summary>
    public List<string> Violations { get; } = [];

    /// <summary>A cause makes RecordRunChangeActivity fail for that change, as it does once its retries are spent; null lets it run.</summary>
    public Func<RunChangeRequest, string?> RecordFailure { get; set; } = _ => null;

    /// <summary>Tasks with an agent activity scheduled and not yet completed.</summary>
    public IEnumerable<string> AgentsInFlight =>
        agentCalls.Where(c => c.Value.Any(s => !s.Done.Task.IsCompleted)).Select(c => c.Key);

    /// <summary>Human events the orchestrator waits on that have not been raised: answers, verdicts on drafts and on tool calls.</summary>
    public IEnumerable<string> PendingHumanWaits =>
        Waits.Where(w => (w.StartsWith("human:", StringComparison.Ordinal) || w.StartsWith("tool:", StringComparison.Ordinal)) && !IsRaised(w));

    public IEnumerable<FakeTimer> PendingTimers => Timers.Where(t => !t.Fired.IsCompleted);

    /// <summary>A PlanRunActivity call (a first plan, or a plan again after feedback) waits for its answer.</summary>
    public bool PlanInFlight => plans.Any(p => !p.Task.IsCompleted);

    public bool SynthesisInFlight => SynthesisInputs.Count > 0 && !synthesis.Task.IsCompleted;

    /// <summary>Whether the orchestrator waits on a raise of the run's budget.</summary>
    public bool WaitsOnBudget => Waits.Any(w => w.StartsWith("budget:", StringComparison.Ordinal) && !IsRaised(w));

    public bool IsEnded => outcome is { IsCompleted: true };

    /// <summary>What the orchestrator threw, when it ended by throwing rather than returning an outcome.</summary>
    public Exception? Fault => outcome?.Exception?.InnerException;

    public IEnumerable<string> StartedTasks => AgentStarts.Select(a => a.TaskId);

    public TaskState? StateOf(string taskId) => State.Task(taskId)?.State;

    public static TaskNode Agent(string taskId, params string[] dependsOn) => new(taskId, TaskKind.Agent, dependsOn);

    public static TaskNode Human(string taskId, params string[] dependsOn) => new(taskId, TaskKind.Human, dependsOn);

    public static EngineSettings Engine(
        int maxParallel = 4, int maxReviewRounds = 2, bool requireApproval = false, int? humanTimeoutSeconds = null, bool requirePlanApproval = false) =>
        new(maxParallel, maxReviewRounds, requireApproval, humanTimeoutSeconds, requirePlanApproval);

    /// <summary>
    /// Starts the orchestration of the run's first attempt, or of a retry of it: <paramref name="retried"/> is the plan
    /// of a run that failed with the tasks marked completed done and the rest not, taken up again by
    /// <see cref="RunTransitions.Retry"/> (<paramref name="planApproved"/>: its plan had been approved before it failed).
    /// </summary>
    public void Start(EngineSettings? engine = null, IReadOnlyList<TaskNode>? retried = null, bool planApproved = true)
    {
        // An inherited synchronization context would queue the orchestrator's continuations instead of running them inline.
        Assert.That(SynchronizationContext.Current, Is.Null, "the fake relies on inline continuations");
        var settings = engine ?? Engine();
        State = State with { RequirePlanApproval = settings.RequirePlanApproval };
        if (retried is not null)
        {
            var failed = State with
            {
                Status = RunStatus.Failed,
                Error = "An earlier attempt failed.",
                Tasks = retried.Select(t => TaskRecord.FromPlan(Planned(t)) with
                {
                    State = t.State == TaskState.Completed ? TaskState.Completed : TaskState.Cancelled,
                    ReviewRound = t.Round,
                }).ToList(),
                PlannedRound = 0,
                PlanApproved = planApproved,
            };
            State = RunTransitions.Retry(failed).After!;
        }

        input = new RunInput(AccountId, RunId, settings, State.Attempt);

        outcome = new RunOrchestrator().RunAsync(context.Object, input);
        AssertBlocked();
    }

    /// <summary>Starts the run and returns a plan of these tasks from PlanRunActivity.</summary>
    public void StartPlanned(EngineSettings engine, params TaskNode[] tasks)
    {
        Start(engine);
        CompletePlan(tasks);
    }

    public void CompletePlan(params TaskNode[] tasks) => CompletePlan(new PlanOutline(tasks, PlanUsage));

    /// <summary>
    /// PlanRunActivity's work as the real one does it: planning begins and the plan is saved (waiting for review when it
    /// says so), unless the run ended first (then it answers null), and a plan already saved is kept.
    /// </summary>
    public void CompletePlan(PlanOutline outline)
    {
        var round = PlanInputs[^1].Round;
        var pending = PendingPlan();
        if (State.Status.IsTerminal() || State.Attempt != input!.Attempt)
        {
            pending.SetResult(null);
            return;
        }

        var saved = State.Tasks.Count > 0 && State.PlannedRound >= round;
        if (!saved && State.Status != RunStatus.Planning)
        {
            Write(RunTransitions.BeginPlanning(State, input.Attempt));
        }

        var plan = new RunPlan(outline.Tasks.Select(Planned).ToList(), "test");
        var decision = saved ? Decision.Unchanged : Write(RunTransitions.SavePlan(State, new PlanSave(input.Attempt, round, plan, outline.Usage, [], outline.NeedsReview)));
        PlannedAt = Reported;
        pending.SetResult(decision.IsRefused ? null : outline with { Version = PlannedAt });
    }

    /// <summary>PlanRunActivity's answer when the run had already ended before it could be planned.</summary>
    public void CompletePlanAsEnded() => PendingPlan().SetResult(null);

    public void FailPlan(string cause) => PendingPlan().SetException(Failure(nameof(PlanRunActivity), cause));

    /// <summary>A person's verdict on the plan, as the HTTP handler takes it: decided on the run, then raised on review round <paramref name="round"/>.</summary>
    public bool ReviewPlan(int round, PlanReviewReply reply)
    {
        var edited = reply.Edited?.Tasks.Select(Planned).ToList();
        if (Write(RunTransitions.ReviewPlan(State, new PlanVerdict(reply.Approved, edited, reply.Feedback))).IsRefused)
        {
            return false;
        }

        Raise(RunEvents.PlanReview(round), reply with { Version = Reported });
        return true;
    }

    TaskCompletionSource<PlanOutline?> PendingPlan()
    {
        var pending = plans.LastOrDefault(p => !p.Task.IsCompleted);
        Assert.That(pending, Is.Not.Null, "no PlanRunActivity call is waiting");
        return pending!;
    }

    /// <summary>The agent activity records its result and reports back: both halves of <see cref="RecordAgentResult"/> and <see cref="DeliverAgentResult"/>.</summary>
    public void CompleteAgent(string taskId, TokenUsage? usage = null)
    {
        RecordAgentResult(taskId, usage);
        DeliverAgentResult(taskId);
    }

    /// <summary>The agent activity writes its output (done, or a draft waiting for approval), not yet reported back to the orchestrator.</summary>
    public void RecordAgentResult(string taskId, TokenUsage? usage = null)
    {
        var call = PendingAgent(taskId);
        var result = new AgentResult($"Output of {taskId}.", usage ?? AgentUsage, call.Input.AwaitApproval);
        recorded[taskId] = (!Write(RunTransitions.FinishAgent(State, call.Input.Attempt, taskId, result, WriteTime)).IsRefused, Reported);
    }

    /// <summary>The agent activity's completion reaches the orchestrator (after <see cref="RecordAgentResult"/>).</summary>
    public void DeliverAgentResult(string taskId)
    {
        Journal.Add($"done {taskId}");
        var call = PendingAgent(taskId);
        call.Done.SetResult(recorded.Remove(taskId, out var wrote) && wrote.Wrote
            ? new AgentTaskResult(Recorded: true, Version: wrote.Version)
            : new AgentTaskResult(Recorded: false));
    }

    /// <summary>The agent's output is written but not yet reported back to the orchestrator.</summary>
    public bool IsRecordedNotDelivered(string taskId) => recorded.ContainsKey(taskId);

    public void FailAgent(string taskId, string cause) => PendingAgent(taskId).Done.SetException(Failure(nameof(ExecuteAgentTaskActivity), cause));

    /// <summary>SynthesizeRunActivity's work as the real one does it; <paramref name="completed"/> false: the run was cancelled by a client first.</summary>
    public void CompleteSynthesis(bool completed = true)
    {
        if (!completed)
        {
            EndInTheProjection();
        }

        var attempt = input!.Attempt;
        if (State.Status.IsTerminal() || State.Attempt != attempt)
        {
            synthesis.SetResult(new SynthesisResult(State.Status == RunStatus.Completed && State.Attempt == attempt));
            return;
        }

        if (State.Status != RunStatus.Running && Write(RunTransitions.BeginSynthesis(State, attempt)).IsRefused)
        {
            synthesis.SetResult(new SynthesisResult(false));
            return;
        }

        synthesis.SetResult(new SynthesisResult(!Write(RunTransitions.Complete(State, attempt, "Final output.", new TokenUsage(5, 6))).IsRefused));
    }

    /// <summary>A client cancels the run (DELETE): recorded cancelled, then the cancel event. A finished run refuses, and nothing is raised.</summary>
    public void Cancel()
    {
        if (!Write(RunTransitions.Cancel(State, WriteTime)).IsRefused && !IsRaised(RunEvents.Cancel))
        {
            Raise(RunEvents.Cancel, new CancelRequest("cancelled by the test"));
        }
    }

    /// <summary>A client's cancel is recorded, and its event not raised yet: the orchestration's next record is refused.</summary>
    public void EndInTheProjection() => Write(RunTransitions.Cancel(State, WriteTime));

    /// <summary>
    /// A person answers a task as the HTTP handler takes it: decided on the run, and the event raised only if the answer
    /// landed (a task not waiting answers 409). Returns whether it landed.
    /// </summary>
    public bool Answer(string taskId, int round, HumanDecision decision)
    {
        var task = State.Task(taskId);
        var answer = task?.Kind == TaskKind.Human ? new HumanAnswer(null, "An answer.", null)
            : decision == HumanDecision.Accepted ? new HumanAnswer(true, null, null)
            : new HumanAnswer(false, null, "Make it shorter.");
        if (Write(RunTransitions.Answer(State, taskId, answer, WriteTime)).IsRefused)
        {
            return false;
        }

        Raise(RunEvents.Human(taskId, round), new HumanReply(decision, Reported));
        return true;
    }

    /// <summary>Raises an event; one raised before the orchestrator waits is kept until it does, as the engine does.</summary>
    public void Raise<T>(string name, T payload)
    {
        raised.Add(name);
        Source<T>(name).SetResult(payload);
    }

    public bool IsRaised(string name) => raised.Contains(name);

    /// <summary>Asserts the orchestrator is waiting on something (and did not fail, e.g. on an unexpected call).</summary>
    public void AssertBlocked()
    {
        Assert.That(outcome, Is.Not.Null, "the run was not started");
        if (outcome!.IsFaulted)
        {
            Assert.Fail($"The orchestrator failed: {outcome.Exception}");
        }

        Assert.That(outcome.IsCompleted, Is.False, () => $"The orchestrator returned {outcome.Result}; journal: {string.Join(" | ", Journal)}");
    }

    /// <summary>The orchestrator's result; fails the test if it is still waiting.</summary>
    public RunOutcome Outcome()
    {
        // Thrown, not asserted: inside Assert.Multiple a failed assertion carries on, and GetResult would block forever.
        if (outcome is not { IsCompleted: true })
        {
            throw new AssertionException($"The orchestrator is still waiting or was not started; journal: {string.Join(" | ", Journal)}");
        }

        return outcome.GetAwaiter().GetResult();
    }

    public RunChangeRequest LastRecord => Records[^1];

    /// <summary>The time writes are stamped with: the orchestration's clock, as a store's would read about then.</summary>
    DateTimeOffset WriteTime => new(Clock, TimeSpan.Zero);

    /// <summary>Applies a decision as the store would persist it, and checks the status rule on the run it leaves.</summary>
    Decision Write(Decision decision)
    {
        if (decision.After is { } after)
        {
            State = after;
            Version++;
            if (after.StatusRuleViolation() is { } violation)
            {
                Violations.Add($"{violation}; journal: {string.Join(" | ", Journal)}");
            }
        }

        return decision;
    }

    Task<bool> Record(RunChangeRequest request)
    {
        Journal.Add($"record {request.Kind}");
        Records.Add(request);
        if (RecordFailure(request) is { } cause)
        {
            return Task.FromException<bool>(Failure(nameof(RecordRunChangeActivity), cause));
        }

        return Task.FromResult(!Write(request.Decide(State, WriteTime)).IsRefused);
    }

    static PlannedTask Planned(TaskNode t) => new(t.TaskId, $"Task {t.TaskId}", "", t.Kind, t.Kind == TaskKind.Agent ? "writer" : null, t.DependsOn);

    static TaskName Named(string name) => It.Is<TaskName>(n => n.Name == name);

    static TaskFailedException Failure(string activity, string cause) =>
        new(activity, 1, new TaskFailureDetails(typeof(ModelProviderException).FullName!, cause, null, null, null));

    /// <summary>The agent activity as the real one starts: it records its own start when asked to, and stops at once when the run moved on.</summary>
    Task<AgentTaskResult> StartAgent(AgentTaskInput started)
    {
        Journal.Add($"agent {started.TaskId}");
        AgentStarts.Add(started);
        var stale = (started.RecordStart && Write(RunTransitions.StartAgent(State, started.Attempt, started.TaskId, WriteTime)).IsRefused) ||
                    StateOf(started.TaskId) != TaskState.Running || State.Attempt != started.Attempt || State.Status.IsTerminal();
        var source = new TaskCompletionSource<AgentTaskResult>();
        if (!agentCalls.TryGetValue(started.TaskId, out var calls))
        {
            agentCalls[started.TaskId] = calls = [];
        }

        calls.Add((started, source));
        if (stale)
        {
            source.SetResult(new AgentTaskResult(Recorded: false));
        }

        return source.Task;
    }

    (AgentTaskInput Input, TaskCompletionSource<AgentTaskResult> Done) PendingAgent(string taskId)
    {
        var pending = agentCalls.GetValueOrDefault(taskId)?.LastOrDefault(s => !s.Done.Task.IsCompleted);
        Assert.That(pending?.Done, Is.Not.Null, $"{taskId} has no running agent activity");
        return pending!.Value;
    }

    Task<T> Wait<T>(string name)
    {
        Journal.Add($"wait {name}");
        Waits.Add(name);
        return Source<T>(name).Task;
    }

    TaskCompletionSource<T> Source<T>(string name)
    {
        if (!events.TryGetValue(name, out var source))
        {
            events[name] = source = new TaskCompletionSource<T>();
        }

        return (TaskCompletionSource<T>)source;
    }

    /// <summary>The orchestration's current time: <see cref="Now"/> until a timer fires, then that timer's time.</summary>
    public DateTime Clock { get; private set; } = Now;

    Task AddTimer(DateTime fireAt, CancellationToken token)
    {
        Journal.Add("timer");
        var timer = new FakeTimer(fireAt, token, at => Clock = at);
        Timers.Add(timer);
        return timer.Fired;
    }
}
