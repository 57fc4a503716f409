using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Moq;
using Orchflow.Abstractions;
using Orchflow.Activities;
using Orchflow.Domain;
using Orchflow.Orchestrators;

namespace Orchflow.Tests.Activities;

/// <summary>The agent activity hands the model the context <c>AgentContext</c> chose and says when it trimmed, without the text.</summary>
[TestFixture]
public sealed class ExecuteAgentTaskActivityContextTests
{
    const string AccountId = "acct-1";
    const string RunId = "run-1";
    const string Answer = "Budget: 2,000 EUR a month. Audience: indie developers.";

    static readonly string Research = string.Join(' ', Enumerable.Repeat("competitor pricing secret-sauce", 400));

    [Test]
    public async Task RunAsync_DependencyOverBudget_PassesTrimmedInputsAndLogsTheTrimWithoutText()
    {
        var (activity, requests, log) = Activity(budget: 1_000);

        await activity.RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T3", AwaitApproval: false));

        var inputs = requests.Single().Inputs;
        var trim = log.Entries.Single(e => e.Level == LogLevel.Information && e.Template.Contains("context budget"));
        Assert.Multiple(() =>
        {
            Assert.That(inputs.Select(i => i.TaskId), Is.EqualTo(new[] { "T1", "T2" }));
            Assert.That(inputs[0].Output, Is.EqualTo(Answer));
            Assert.That(inputs[1].Output, Does.Contain("omitted to fit the context budget"));
            Assert.That(inputs[0].Output.Length + inputs[1].Output.Length,
                Is.LessThanOrEqualTo(1_000 + Orchflow.Agents.AgentContext.MaxMarkerOverhead));
            Assert.That(trim.Properties["TaskId"], Is.EqualTo("T3"));
            Assert.That(trim.Properties["BudgetChars"], Is.EqualTo(1_000));
            Assert.That(trim.Properties["OmittedChars"], Is.GreaterThan(0));
            Assert.That(log.Entries.Select(e => e.Message), Has.None.Contain("secret-sauce"), "no dependency text in a log");
            Assert.That(log.Entries.Select(e => e.Message), Has.None.Contain("2,000 EUR"), "no human answer in a log");
        });
    }

    [Test]
    public async Task RunAsync_InputsWithinBudget_PassesThemWholeAndLogsNoTrim()
    {
        var (activity, requests, log) = Activity(budget: 24_000);

        await activity.RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T3", AwaitApproval: false));

        Assert.Multiple(() =>
        {
            Assert.That(requests.Single().Inputs.Select(i => i.Output), Is.EqualTo(new[] { Answer, Research }));
            Assert.That(log.Entries.Select(e => e.Template), Has.None.Contain("context budget"));
        });
    }

    static (ExecuteAgentTaskActivity Activity, List<AgentTaskRequest> Requests, CapturingLogger Log) Activity(int budget)
    {
        var now = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var current = new TaskRecord
        {
            TaskId = "T3", Name = "Propose the launch", Kind = TaskKind.Agent, Agent = "writer", State = TaskState.Running, DependsOn = ["T2"],
        };
        var run = new RunRecord
        {
            RunId = RunId,
            AccountId = AccountId,
            Status = RunStatus.Running,
            Definition = new RunDefinition("Plan our launch.", [], [], [], false, null, null),
            CreatedAt = now,
            UpdatedAt = now,
            Tasks =
            [
                new TaskRecord { TaskId = "T1", Name = "Budget", Kind = TaskKind.Human, State = TaskState.Completed, Output = Answer, Prompt = "?" },
                new TaskRecord { TaskId = "T2", Name = "Research", Kind = TaskKind.Agent, Agent = "research", State = TaskState.Completed, Output = Research },
                current,
            ],
        };

        var runs = new InMemoryRunStore();
        runs.Put(run);

        var requests = new List<AgentTaskRequest>();
        var model = new Mock<IRunModel>(MockBehavior.Strict);
        model.Setup(m => m.RunTaskAsync(It.IsAny<AgentTaskRequest>(), It.IsAny<CancellationToken>()))
            .Callback((AgentTaskRequest request, CancellationToken _) => requests.Add(request))
            .ReturnsAsync(new ModelReply<string>("## Launch plan", TokenUsage.Zero));
        var models = new Mock<IRunModelFactory>(MockBehavior.Strict);
        models.Setup(f => f.ForRunAsync(AccountId, null, It.IsAny<CancellationToken>())).ReturnsAsync(model.Object);

        var log = new CapturingLogger();
        var activity = new ExecuteAgentTaskActivity(
            runs, models.Object, new FakeToolbox(), new MemoryLiveOutputStore().Outputs(), Options.Create(new EngineOptions { ContextBudgetChars = budget }), TimeProvider.System, log);
        return (activity, requests, log);
    }

    sealed record LogEntry(LogLevel Level, string Template, IReadOnlyDictionary<string, object?> Properties, string Message);

    /// <summary>Keeps each entry's template, structured properties and rendered message.</summary>
    sealed class CapturingLogger : ILogger<ExecuteAgentTaskActivity>
    {
        public List<LogEntry> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var properties = (state as IReadOnlyList<KeyValuePair<string, object?>> ?? []).ToDictionary(p => p.Key, p => p.Value);
            Entries.Add(new LogEntry(logLevel, properties["{OriginalFormat}"]?.ToString() ?? "", properties, formatter(state, exception)));
        }
    }
}
