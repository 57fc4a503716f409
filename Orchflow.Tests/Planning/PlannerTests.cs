using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Planning;
using Orchflow.Tests.Models;

namespace Orchflow.Tests.Planning;

/// <summary>The planner's loop: the model's plan, one repair with the errors fed back, then the deterministic fallback.</summary>
[TestFixture]
public sealed class PlannerTests
{
    const string ModelName = "gpt-test";
    const string Goal = "Research 5 competitors, extract pricing, compare positioning, then propose our launch strategy.";
    static readonly DateTimeOffset Now = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    static readonly IReadOnlyList<AgentSpec> Agents = AgentCatalog.Resolve(null);

    static readonly PlannedTask[] ModelTasks =
    [
        new("T1", "Survey competitor pricing", "Find what five competitors charge.", TaskKind.Agent, "research", []),
        new("T2", "Recommend a price", "Pick our price from the survey.", TaskKind.Agent, "analyst", ["T1"]),
        new("T3", "Write the launch strategy", "One page.", TaskKind.Agent, "writer", ["T2"]),
    ];

    static readonly string ValidAnswer = PlanJson.Serialize(new RunPlan(ModelTasks, "ignored"));

    // T2 uses an agent the run does not have: valid JSON, invalid plan.
    static readonly string UnknownAgentAnswer = PlanJson.Serialize(new RunPlan(
        [ModelTasks[0], ModelTasks[1] with { Agent = "designer" }, ModelTasks[2]], "ignored"));

    static readonly string CyclicAnswer = PlanJson.Serialize(new RunPlan(
        [ModelTasks[0] with { DependsOn = ["T3"] }, ModelTasks[1], ModelTasks[2]], "ignored"));

    const string UnknownAgentError = "T2 uses agent \"designer\", which this run does not have; use one of: research, analyst, writer.";
    const string CycleError = "The dependencies form a cycle: T1 → T3 → T2 → T1.";

    readonly List<PlanningRequest> requests = [];
    readonly Queue<Func<ModelReply<string>>> replies = new();
    Mock<IRunModel> model = null!;
    Planner planner = null!;

    [SetUp]
    public void SetUp()
    {
        requests.Clear();
        replies.Clear();
        model = new Mock<IRunModel>(MockBehavior.Strict);
        model.SetupGet(m => m.Name).Returns(ModelName);
        model.Setup(m => m.PlanAsync(It.IsAny<PlanningRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((PlanningRequest request, CancellationToken _) =>
            {
                requests.Add(request);
                return replies.Dequeue()();
            });
        planner = new Planner(new ManualTimeProvider(Now), NullLogger<Planner>.Instance);
    }

    [Test]
    public async Task PlanAsync_ValidFirstAnswer_UsesItPlannedByTheModelWithOnlyTheNoteOfItsShape()
    {
        Answer(ValidAnswer, new TokenUsage(100, 50));
        var definition = Definition();

        var result = await planner.PlanAsync(model.Object, definition, Agents, CancellationToken.None);

        Assert.Multiple(() =>
        {
            PlanJsonTests.AssertTasks(result.Plan.Tasks, ModelTasks);
            Assert.That(result.Plan.PlannedBy, Is.EqualTo(ModelName));
            Assert.That(result.Events.Select(e => e.Kind), Is.EqualTo(new[] { RunEventKinds.Planned }));
            Assert.That(result.Events[0].Message, Does.Contain(ModelName).And.Contain($"{ModelTasks.Length} tasks"));
            Assert.That(result.Usage, Is.EqualTo(new TokenUsage(100, 50)));
            Assert.That(requests, Has.Count.EqualTo(1));
            Assert.That(requests[0], Is.EqualTo(new PlanningRequest(definition, Agents)));
        });
    }

    [Test]
    public async Task PlanAsync_InvalidThenValid_UsesTheRepairedPlanAndRecordsOneRepairEvent()
    {
        Answer(UnknownAgentAnswer, new TokenUsage(100, 50));
        Answer(ValidAnswer, new TokenUsage(150, 40));
        var definition = Definition();

        var result = await planner.PlanAsync(model.Object, definition, Agents, CancellationToken.None);

        Assert.Multiple(() =>
        {
            PlanJsonTests.AssertTasks(result.Plan.Tasks, ModelTasks);
            Assert.That(result.Plan.PlannedBy, Is.EqualTo($"{ModelName} (repaired)"));
            Assert.That(result.Usage, Is.EqualTo(new TokenUsage(250, 90)));
            Assert.That(requests, Has.Count.EqualTo(2));
            Assert.That(requests[0].Repair, Is.Null);
            Assert.That(requests[1].Definition, Is.SameAs(definition));
            Assert.That(requests[1].Agents, Is.SameAs(Agents));
            Assert.That(requests[1].Repair!.PreviousAnswer, Is.EqualTo(UnknownAgentAnswer));
            Assert.That(requests[1].Repair!.Errors, Is.EqualTo(new[] { UnknownAgentError }));
            Assert.That(result.Events.Select(e => e.Kind), Is.EqualTo(new[] { RunEventKinds.PlanRepair, RunEventKinds.Planned }));
            Assert.That(result.Events[0].Kind, Is.EqualTo(RunEventKinds.PlanRepair));
            Assert.That(result.Events[0].Key, Is.EqualTo("plan-1"));
            Assert.That(result.Events[0].At, Is.EqualTo(Now));
            Assert.That(result.Events[0].Message, Does.Contain(UnknownAgentError));
        });
    }

    [Test]
    public async Task PlanAsync_NotJsonThenValid_FeedsTheParseErrorBack()
    {
        Answer("Sure! First I would research competitors, then write.");
        Answer("```json\n" + ValidAnswer + "\n```");

        var result = await planner.PlanAsync(model.Object, Definition(), Agents, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(result.Plan.PlannedBy, Is.EqualTo($"{ModelName} (repaired)"));
            PlanJsonTests.AssertTasks(result.Plan.Tasks, ModelTasks);
            Assert.That(requests[1].Repair!.PreviousAnswer, Is.EqualTo("Sure! First I would research competitors, then write."));
            Assert.That(requests[1].Repair!.Errors, Has.Count.EqualTo(1));
            Assert.That(requests[1].Repair!.Errors[0], Does.StartWith("The answer is not valid JSON: "));
        });
    }

    [Test]
    public async Task PlanAsync_InvalidTwice_FallsBackToTheDeterministicPlanAndSaysWhy()
    {
        Answer(UnknownAgentAnswer, new TokenUsage(100, 50));
        Answer(CyclicAnswer, new TokenUsage(120, 60));
        var definition = Definition();

        var result = await planner.PlanAsync(model.Object, definition, Agents, CancellationToken.None);

        Assert.Multiple(() =>
        {
            PlanJsonTests.AssertTasks(result.Plan.Tasks, DeterministicPlanner.Plan(definition, Agents).Tasks);
            Assert.That(result.Plan.PlannedBy, Is.EqualTo("deterministic (fallback)"));
            Assert.That(PlanValidator.Validate(result.Plan.Tasks, definition, Agents), Is.Empty);
            Assert.That(result.Usage, Is.EqualTo(new TokenUsage(220, 110)));
            Assert.That(requests, Has.Count.EqualTo(2));
            Assert.That(requests[1].Repair!.Errors, Is.EqualTo(new[] { UnknownAgentError }));
            Assert.That(result.Events.Select(e => e.Kind), Is.EqualTo(new[] { RunEventKinds.PlanRepair, RunEventKinds.PlanFallback, RunEventKinds.Planned }));
            Assert.That(result.Events.Select(e => e.Key), Is.Unique);
            Assert.That(result.Events[0].Message, Does.Contain(UnknownAgentError));
            Assert.That(result.Events[1].Message, Does.Contain("deterministic planner").And.Contain(CycleError));
            Assert.That(result.Events[1].At, Is.EqualTo(Now));
        });
    }

    [Test]
    public async Task PlanAsync_ValidPlanWithHumanGate_RoutesTheMatchingModelTaskToAHuman()
    {
        Answer(ValidAnswer);
        var definition = Definition(humanGates: ["PRICE"]);

        var result = await planner.PlanAsync(model.Object, definition, Agents, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(result.Plan.PlannedBy, Is.EqualTo(ModelName));
            Assert.That(result.Plan.Tasks.Select(t => t.Kind), Is.EqualTo(new[] { TaskKind.Agent, TaskKind.Human, TaskKind.Agent }));
            Assert.That(result.Plan.Tasks[1].Agent, Is.Null);
            Assert.That(result.Plan.Tasks[1].Prompt, Does.Contain("PRICE").And.Contain("Recommend a price"));
            Assert.That(result.Plan.Tasks[1].DependsOn, Is.EqualTo(new[] { "T1" }));
            Assert.That(result.Plan.Tasks[2].Agent, Is.EqualTo("writer"));
        });
    }

    [Test]
    public async Task PlanAsync_FallbackWithHumanGate_RoutesTheMatchingFallbackTaskToAHuman()
    {
        Answer(UnknownAgentAnswer);
        Answer(UnknownAgentAnswer);
        var definition = Definition(humanGates: ["pricing"]);

        var result = await planner.PlanAsync(model.Object, definition, Agents, CancellationToken.None);

        var expected = HumanGates.Apply(DeterministicPlanner.Plan(definition, Agents), definition.HumanGates);
        Assert.Multiple(() =>
        {
            Assert.That(result.Plan.PlannedBy, Is.EqualTo("deterministic (fallback)"));
            PlanJsonTests.AssertTasks(result.Plan.Tasks, expected.Tasks);
            Assert.That(result.Plan.Tasks.Where(t => t.Kind == TaskKind.Human), Is.Not.Empty, "the gate matched a fallback step");
            Assert.That(result.Plan.Tasks.Where(t => t.Kind == TaskKind.Human).Select(t => t.Prompt), Has.All.Contain("\"pricing\""));
        });
    }

    [Test]
    public void PlanAsync_ModelThrows_PropagatesWithoutFallingBack()
    {
        replies.Enqueue(() => throw new HttpRequestException("503 from the provider"));

        var thrown = Assert.ThrowsAsync<HttpRequestException>(() => planner.PlanAsync(model.Object, Definition(), Agents, CancellationToken.None));

        Assert.That(thrown!.Message, Is.EqualTo("503 from the provider"));
        Assert.That(requests, Has.Count.EqualTo(1));
    }

    [Test]
    public void PlanAsync_ModelThrowsOnTheRepair_PropagatesWithoutFallingBack()
    {
        Answer(UnknownAgentAnswer);
        replies.Enqueue(() => throw new TimeoutException("the provider timed out"));

        Assert.ThrowsAsync<TimeoutException>(() => planner.PlanAsync(model.Object, Definition(), Agents, CancellationToken.None));
        Assert.That(requests, Has.Count.EqualTo(2));
    }

    [Test]
    public void PlanAsync_Cancelled_PropagatesTheCancellationToTheModelAndTheCaller()
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        model.Setup(m => m.PlanAsync(It.IsAny<PlanningRequest>(), cancellation.Token))
            .ThrowsAsync(new OperationCanceledException(cancellation.Token));

        Assert.CatchAsync<OperationCanceledException>(() => planner.PlanAsync(model.Object, Definition(), Agents, cancellation.Token));
    }

    [Test]
    public async Task PlanAsync_LongInvalidAnswer_EchoesOnlyTheFirst8000CharactersInTheRepair()
    {
        var longAnswer = "Let me think. " + new string('x', 20_000);
        Answer(longAnswer);
        Answer(ValidAnswer);

        await planner.PlanAsync(model.Object, Definition(), Agents, CancellationToken.None);

        var echoed = requests[1].Repair!.PreviousAnswer;
        Assert.Multiple(() =>
        {
            Assert.That(echoed, Has.Length.EqualTo(8_001));
            Assert.That(echoed, Is.EqualTo(longAnswer[..8_000] + "…"));
        });
    }

    [Test]
    public async Task PlanAsync_AnswerOfExactly8000Characters_IsEchoedWhole()
    {
        var answer = new string('x', 8_000);
        Answer(answer);
        Answer(ValidAnswer);

        await planner.PlanAsync(model.Object, Definition(), Agents, CancellationToken.None);

        Assert.That(requests[1].Repair!.PreviousAnswer, Is.EqualTo(answer));
    }

    [Test]
    public async Task PlanAsync_LongAnswerWithAnEmojiAtTheCut_DoesNotSplitTheSurrogatePair()
    {
        var longAnswer = new string('x', 7_999) + "🙂" + new string('y', 100);
        Answer(longAnswer);
        Answer(ValidAnswer);

        await planner.PlanAsync(model.Object, Definition(), Agents, CancellationToken.None);

        Assert.That(requests[1].Repair!.PreviousAnswer, Is.EqualTo(new string('x', 7_999) + "…"));
    }

    [Test]
    public async Task PlanAsync_HugeAnswer_IsRejectedAndRepaired()
    {
        var huge = "{\"tasks\":[" + string.Join(",", Enumerable.Repeat(PlanJson.Serialize(new RunPlan([ModelTasks[0]], "x"))[10..^2], 1_000)) + "]}";
        Answer(huge);
        Answer(ValidAnswer);

        var result = await planner.PlanAsync(model.Object, Definition(), Agents, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(huge, Has.Length.GreaterThan(PlanJson.MaxLength));
            Assert.That(requests[1].Repair!.Errors, Is.EqualTo(new[] { $"The answer is {huge.Length} characters long; a plan must fit in 65536." }));
            Assert.That(result.Plan.PlannedBy, Is.EqualTo($"{ModelName} (repaired)"));
        });
    }

    [Test]
    public async Task PlanAsync_AskMeAboutNotCoveredTwice_FallsBackToAPlanThatAsksTheHuman()
    {
        Answer(ValidAnswer);
        Answer(ValidAnswer);
        var definition = Definition(askMeAbout: ["budget"]);

        var result = await planner.PlanAsync(model.Object, definition, Agents, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(result.Plan.PlannedBy, Is.EqualTo("deterministic (fallback)"));
            Assert.That(requests[1].Repair!.Errors, Is.EqualTo(new[]
            {
                "No human task asks for \"budget\"; add one (kind \"human\") whose prompt asks for it.",
            }));
            Assert.That(result.Plan.Tasks.Where(t => t.Kind == TaskKind.Human).Select(t => t.Prompt), Has.Some.Contain("budget"));
            Assert.That(PlanValidator.Validate(result.Plan.Tasks, definition, Agents), Is.Empty);
        });
    }

    void Answer(string text, TokenUsage? usage = null) =>
        replies.Enqueue(() => new ModelReply<string>(text, usage ?? new TokenUsage(10, 5)));

    static RunDefinition Definition(string[]? askMeAbout = null, string[]? humanGates = null) =>
        new(Goal, Agents, askMeAbout ?? [], humanGates ?? [], false, null, null);
}
