using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Moq.Protected;
using Orchflow.Abstractions;
using Orchflow.Activities;
using Orchflow.Domain;
using Orchflow.Orchestrators;

namespace Orchflow.Tests.Orchestrators;

/// <summary>
/// Runs <see cref="RunOrchestrator"/> against a strict <see cref="TaskOrchestrationContext"/> mock whose activities,
/// events and timers are task completion sources the test completes by hand, in any order.
/// </summary>
/// <remarks>
/// The sources run their continuations inline and the tests have no synchronization context, so each completion
/// drives the orchestrator until it is blocked again before the completing call returns: no waiting, no sleeping.
/// </remarks>
sealed class FakeRun
{
    public const string AccountId = "acc_test";
    public const string RunId = "run_test";
    public static readonly DateTime Now = new(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc);
    public static readonly TokenUsage PlanUsage = new(10, 20);

    readonly Mock<TaskOrchestrationContext> context = new(MockBehavior.Strict);
    readonly Dictionary<string, object> events = [];
    readonly HashSet<string> raised = [];
    readonly Dictionary<string, List<TaskCompletionSource<AgentTaskResult>>> agentCalls = [];
    readonly List<TaskCompletionSource<PlanOutline?>> plans = [];
    readonly TaskCompletionSource<bool> synthesis = new();
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
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                Journal.Add("plan");
                PlanInputs.Add((PlanInput)input!);
                plans.Add(new TaskCompletionSource<PlanOutline?>());
                return plans[^1].Task;
            });
        context.Setup(c => c.CallActivityAsync<AgentTaskResult>(Named(nameof(ExecuteAgentTaskActivity)), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) => StartAgent((AgentTaskInput)input!));
        context.Setup(c => c.CallActivityAsync<bool>(Named(nameof(ProjectRunActivity)), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                var transition = (RunTransition)input!;
                Journal.Add($"project {transition.Status}");
                Transitions.Add(transition);
                if (ProjectionFailure(transition) is { } cause)
                {
                    return Task.FromException<bool>(Failure(nameof(ProjectRunActivity), cause));
                }

                var accepted = ProjectionAccepts(transition);
                Project(accepted ? transition.Status : RunStatus.Cancelled);
                return Task.FromResult(accepted);
            });
        context.Setup(c => c.CallActivityAsync<bool>(Named(nameof(SynthesizeRunActivity)), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName _, object? input, TaskOptions? _) =>
            {
                Journal.Add("synthesize");
                SynthesisInputs.Add((SynthesisInput)input!);
                return synthesis.Task;
            });
        context.Setup(c => c.WaitForExternalEvent<HumanReply>(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns((string name, CancellationToken _) => Wait<HumanReply>(name));
        context.Setup(c => c.WaitForExternalEvent<CancelRequest>(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns((string name, CancellationToken _) => Wait<CancelRequest>(name));
        context.Setup(c => c.WaitForExternalEvent<PlanReviewReply>(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns((string name, CancellationToken _) => Wait<PlanReviewReply>(name));
    }

    /// <summary>Every call the orchestrator made, in order: "plan", "agent T2", "project Running", "wait human:T1:0", "timer", "synthesize".</summary>
    public List<string> Journal { get; } = [];

    public List<PlanInput> PlanInputs { get; } = [];

    /// <summary>Every ExecuteAgentTaskActivity input, in the order they were scheduled.</summary>
    public List<AgentTaskInput> AgentStarts { get; } = [];

    public List<RunTransition> Transitions { get; } = [];

    public List<SynthesisInput> SynthesisInputs { get; } = [];

    /// <summary>The names of the external events waited on, in order.</summary>
    public List<string> Waits { get; } = [];

    public List<FakeTimer> Timers { get; } = [];

    /// <summary>What ProjectRunActivity answers; false means the run had already ended (cancelled) in the projection.</summary>
    public Func<RunTransition, bool> ProjectionAccepts { get; set; } = _ => true;

    /// <summary>A cause makes ProjectRunActivity fail for that transition, as it does once its retries are spent; null lets it run.</summary>
    public Func<RunTransition, string?> ProjectionFailure { get; set; } = _ => null;

    /// <summary>The run status the projection shows, as the writes so far left it (a terminal status sticks, as in the store).</summary>
    public RunStatus? ProjectedStatus { get; private set; }

    /// <summary>Tasks with an agent activity scheduled and not yet completed.</summary>
    public IEnumerable<string> AgentsInFlight =>
        agentCalls.Where(c => c.Value.Any(s => !s.Task.IsCompleted)).Select(c => c.Key);

    /// <summary>Human events the orchestrator waits on that have not been raised.</summary>
    public IEnumerable<string> PendingHumanWaits =>
        Waits.Where(w => w.StartsWith("human:", StringComparison.Ordinal) && !IsRaised(w));

    public IEnumerable<FakeTimer> PendingTimers => Timers.Where(t => !t.Fired.IsCompleted);

    /// <summary>A PlanRunActivity call (a first plan, or a plan again after feedback) waits for its answer.</summary>
    public bool PlanInFlight => plans.Any(p => !p.Task.IsCompleted);

    public bool SynthesisInFlight => SynthesisInputs.Count > 0 && !synthesis.Task.IsCompleted;

    public bool IsEnded => outcome is { IsCompleted: true };

    /// <summary>What the orchestrator threw, when it ended by throwing rather than returning an outcome.</summary>
    public Exception? Fault => outcome?.Exception?.InnerException;

    public IEnumerable<string> StartedTasks => AgentStarts.Select(a => a.TaskId);

    public static TaskNode Agent(string taskId, params string[] dependsOn) => new(taskId, TaskKind.Agent, dependsOn);

    public static TaskNode Human(string taskId, params string[] dependsOn) => new(taskId, TaskKind.Human, dependsOn);

    public static EngineSettings Engine(
        int maxParallel = 4, int maxReviewRounds = 2, bool requireApproval = false, int? humanTimeoutSeconds = null, bool requirePlanApproval = false,
        bool agentsRecordTheirStart = false) =>
        new(maxParallel, maxReviewRounds, requireApproval, humanTimeoutSeconds, requirePlanApproval, agentsRecordTheirStart);

    public void Start(EngineSettings? engine = null, int attempt = 0)
    {
        // An inherited synchronization context would queue the orchestrator's continuations instead of running them inline.
        Assert.That(SynchronizationContext.Current, Is.Null, "the fake relies on inline continuations");
        outcome = new RunOrchestrator().RunAsync(context.Object, new RunInput(AccountId, RunId, engine ?? Engine(), attempt));
        AssertBlocked();
    }

    /// <summary>Starts the run and returns a plan of these tasks from PlanRunActivity.</summary>
    public void StartPlanned(EngineSettings engine, params TaskNode[] tasks)
    {
        Start(engine);
        CompletePlan(tasks);
    }

    public void CompletePlan(params TaskNode[] tasks) => CompletePlan(new PlanOutline(tasks, PlanUsage));

    /// <summary>PlanRunActivity's answer as given: a plan awaiting review, or a retried run's plan with its tasks' states.</summary>
    public void CompletePlan(PlanOutline outline) => PendingPlan().SetResult(outline);

    /// <summary>PlanRunActivity's answer when the run had already ended before it could be planned.</summary>
    public void CompletePlanAsEnded() => PendingPlan().SetResult(null);

    public void FailPlan(string cause) => PendingPlan().SetException(Failure(nameof(PlanRunActivity), cause));

    /// <summary>A person's verdict on the plan of review round <paramref name="round"/>.</summary>
    public void ReviewPlan(int round, PlanReviewReply reply) => Raise(RunEvents.PlanReview(round), reply);

    TaskCompletionSource<PlanOutline?> PendingPlan()
    {
        var pending = plans.LastOrDefault(p => !p.Task.IsCompleted);
        Assert.That(pending, Is.Not.Null, "no PlanRunActivity call is waiting");
        return pending!;
    }

    public void CompleteAgent(string taskId, TokenUsage? usage = null)
    {
        Journal.Add($"done {taskId}");
        PendingAgent(taskId).SetResult(new AgentTaskResult(usage ?? new TokenUsage(1, 2), 42));
    }

    public void FailAgent(string taskId, string cause) => PendingAgent(taskId).SetException(Failure(nameof(ExecuteAgentTaskActivity), cause));

    public void CompleteSynthesis(bool completed = true)
    {
        // The activity itself completes the run in the projection, or finds it ended (cancelled).
        Project(completed ? RunStatus.Completed : RunStatus.Cancelled);
        synthesis.SetResult(completed);
    }

    /// <summary>The run ends outside the orchestration (a DELETE wrote "cancelled"): later projection writes are refused.</summary>
    public void EndInTheProjection()
    {
        Project(RunStatus.Cancelled);
        ProjectionAccepts = _ => false;
    }

    /// <summary>Raises an event; one raised before the orchestrator waits is kept until it does, as the engine does.</summary>
    public void Raise<T>(string name, T payload)
    {
        raised.Add(name);
        Source<T>(name).SetResult(payload);
    }

    public bool IsRaised(string name) => raised.Contains(name);

    public void Answer(string taskId, int round, HumanDecision decision) => Raise(RunEvents.Human(taskId, round), new HumanReply(decision));

    public void Cancel() => Raise(RunEvents.Cancel, new CancelRequest("cancelled by the test"));

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

    public RunTransition LastTransition => Transitions[^1];

    public static TaskState? StateIn(RunTransition transition, string taskId) =>
        transition.Tasks.SingleOrDefault(t => t.TaskId == taskId)?.State;

    void Project(RunStatus status)
    {
        if (ProjectedStatus?.IsTerminal() != true)
        {
            ProjectedStatus = status;
        }
    }

    static TaskName Named(string name) => It.Is<TaskName>(n => n.Name == name);

    static TaskFailedException Failure(string activity, string cause) =>
        new(activity, 1, new TaskFailureDetails(typeof(InvalidOperationException).FullName!, cause, null, null, null));

    Task<AgentTaskResult> StartAgent(AgentTaskInput input)
    {
        Journal.Add($"agent {input.TaskId}");
        AgentStarts.Add(input);
        if (input.RecordStart is not null)
        {
            // The activity records its own start as it begins, here at once.
            Project(RunStatus.Running);
        }

        var source = new TaskCompletionSource<AgentTaskResult>();
        if (!agentCalls.TryGetValue(input.TaskId, out var calls))
        {
            agentCalls[input.TaskId] = calls = [];
        }

        calls.Add(source);
        return source.Task;
    }

    TaskCompletionSource<AgentTaskResult> PendingAgent(string taskId)
    {
        var pending = agentCalls.GetValueOrDefault(taskId)?.LastOrDefault(s => !s.Task.IsCompleted);
        Assert.That(pending, Is.Not.Null, $"{taskId} has no running agent activity");
        return pending!;
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

/// <summary>A durable timer the test fires; cancelled, like the engine's, when its token is.</summary>
sealed class FakeTimer
{
    readonly TaskCompletionSource source = new();

    readonly Action<DateTime> setClock;

    public FakeTimer(DateTime fireAt, CancellationToken token, Action<DateTime> setClock)
    {
        FireAt = fireAt;
        Token = token;
        this.setClock = setClock;
        token.Register(() => source.TrySetCanceled(token));
    }

    public DateTime FireAt { get; }

    public CancellationToken Token { get; }

    public Task Fired => source.Task;

    /// <summary>Fires on time: the orchestration's clock reads the timer's due time.</summary>
    public void Fire()
    {
        setClock(FireAt);
        source.SetResult();
    }
}
