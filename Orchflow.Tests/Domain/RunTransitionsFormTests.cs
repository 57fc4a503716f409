using Orchflow.Domain;

namespace Orchflow.Tests.Domain;

/// <summary>
/// Human tasks with a form (docs/api.md, "Forms") as <see cref="RunTransitions"/> decides them: the form announced with
/// the task's wait, an answer's fields checked against it (every problem in one refusal, nothing written), kept as sent
/// with their text for the agents; free text still answers any human task.
/// </summary>
[TestFixture]
public sealed class RunTransitionsFormTests
{
    static readonly DateTimeOffset Now = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Test]
    public void StartTasks_HumanTaskWithAForm_ItsWaitCarriesTheSchema()
    {
        var decision = RunTransitions.StartTasks(Planned(), 0, ["T1"], ["T2"], Now);

        var waiting = decision.Events.Single(e => e.Type == EventTypes.TaskWaitingHuman);
        Assert.Multiple(() =>
        {
            Assert.That(waiting.TaskId, Is.EqualTo("T1"));
            Assert.That(waiting.Data["prompt"]!.GetValue<string>(), Is.EqualTo("Tell us about the budget."));
            Assert.That(waiting.Data["input_schema"]!.ToJsonString(), Is.EqualTo(InputSchemas.Write(InputSchemas.Fields(FormAnswersTests.Schema))));
            Assert.That(decision.After!.Task("T1")!.InputSchema, Is.Not.Null);
        });
    }

    [Test]
    public void StartTasks_HumanTaskWithoutAForm_ItsWaitCarriesThePromptAlone()
    {
        var decision = RunTransitions.StartTasks(Planned(), 0, ["T3"], [], Now);

        Assert.That(decision.Events.Single(e => e.Type == EventTypes.TaskWaitingHuman).Data.Select(p => p.Key), Is.EqualTo(new[] { "prompt" }));
    }

    [Test]
    public void Answer_FieldsKeepingTheForm_CompletedWithTheFieldsAndTheirTextForTheAgents()
    {
        const string input = """{"budget_usd":5000,"tone":"direct"}""";

        var decision = RunTransitions.Answer(Waiting(), "T1", new HumanAnswer(null, null, null, Input: input), Now);

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Task("T1")!.State, Is.EqualTo(TaskState.Completed));
            Assert.That(decision.After.Task("T1")!.Input, Is.EqualTo(input));
            Assert.That(decision.Outputs["T1"], Is.EqualTo(FormAnswers.Text(FormAnswersTests.Schema, input)));
            Assert.That(decision.Outputs["T1"], Does.Contain("- **Monthly budget** (`budget_usd`): 5000"));
            Assert.That(decision.Events.Select(e => e.Type), Does.Contain(EventTypes.TaskCompleted));
        });
    }

    [Test]
    public void Answer_FieldsBreakingTheForm_RefusedWithEveryProblemAndNothingWritten()
    {
        var decision = RunTransitions.Answer(Waiting(), "T1",
            new HumanAnswer(null, null, null, Input: """{"budget_usd":"lots","tone":"shouty","colour":"red"}"""), Now);

        Assert.Multiple(() =>
        {
            Assert.That(decision.Refusal?.Kind, Is.EqualTo(RefusalKind.Invalid));
            Assert.That(decision.Problems.Select(p => p.Field).Distinct(), Is.EquivalentTo(new[] { "input.budget_usd", "input.tone", "input.colour" }));
            Assert.That(decision.Writes, Is.False);
            Assert.That(decision.Outputs, Is.Empty);
            Assert.That(decision.Events, Is.Empty);
        });
    }

    [Test]
    public void Answer_FreeTextToATaskWithAForm_StillAnswersIt()
    {
        var decision = RunTransitions.Answer(Waiting(), "T1", new HumanAnswer(null, "About 5k a month, direct tone.", null), Now);

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Task("T1")!.State, Is.EqualTo(TaskState.Completed));
            Assert.That(decision.After.Task("T1")!.Input, Is.Null);
            Assert.That(decision.Outputs["T1"], Is.EqualTo("About 5k a month, direct tone."));
        });
    }

    [Test]
    public void Answer_InputWhereNoFormIsOrWithText_RefusedNamingInput()
    {
        var started = RunTransitions.StartTasks(Waiting(), 0, ["T3"], [], Now).After!;
        var draft = RunTransitions.FinishAgent(started, 0, "T2", new AgentResult("A draft.", TokenUsage.Zero, AwaitApproval: true), Now).After!;

        var noForm = RunTransitions.Answer(started, "T3", new HumanAnswer(null, null, null, Input: """{"a":1}"""), Now);
        var both = RunTransitions.Answer(started, "T1", new HumanAnswer(null, "Text.", null, Input: """{"budget_usd":1,"tone":"direct"}"""), Now);
        var neither = RunTransitions.Answer(started, "T1", new HumanAnswer(true, null, null), Now);
        var toADraft = RunTransitions.Answer(draft, "T2", new HumanAnswer(true, null, null, Input: "{}"), Now);

        Assert.Multiple(() =>
        {
            foreach (var (decision, name) in new[] { (noForm, "no form"), (both, "both"), (neither, "neither"), (toADraft, "a draft") })
            {
                Assert.That(decision.Refusal?.Kind, Is.EqualTo(RefusalKind.Invalid), name);
                Assert.That(decision.Refusal?.Field, Is.EqualTo("input"), name);
                Assert.That(decision.Writes, Is.False, name);
            }
        });
    }

    [Test]
    public void Answer_TaskNoLongerWaiting_ConflictEvenForGoodFields()
    {
        var answered = RunTransitions.Answer(Waiting(), "T1", new HumanAnswer(null, "Text.", null), Now).After!;

        var again = RunTransitions.Answer(answered, "T1", new HumanAnswer(null, null, null, Input: """{"budget_usd":1,"tone":"direct"}"""), Now);

        Assert.That(again.Refusal?.Kind, Is.EqualTo(RefusalKind.Conflict));
    }

    [Test]
    public void Retry_AnsweredFormKept_UnansweredOneWaitsAgainWithItsForm()
    {
        var answered = RunTransitions.Answer(Waiting(), "T1", new HumanAnswer(null, null, null, Input: """{"budget_usd":1,"tone":"direct"}"""), Now).After!;
        var failed = RunTransitions.Fail(answered, 0, "Task T2 failed: boom", "T2", Now).After!;

        var retried = RunTransitions.Retry(failed).After!;

        Assert.Multiple(() =>
        {
            Assert.That(retried.Task("T1")!.Input, Is.EqualTo("""{"budget_usd":1,"tone":"direct"}"""));
            Assert.That(retried.Task("T1")!.State, Is.EqualTo(TaskState.Completed));
            Assert.That(retried.Task("T3")!.InputSchema, Is.Null);
        });
    }

    static RunState Planned() => RunTransitions.SavePlan(new RunState { RunId = "run_1", AccountId = "acc_1", Status = RunStatus.Planning },
        new PlanSave(0, 0, new RunPlan(
        [
            new PlannedTask("T1", "Budget", "", TaskKind.Human, null, [], "Tell us about the budget.", FormAnswersTests.Schema),
            new PlannedTask("T2", "Research", "", TaskKind.Agent, "research", []),
            new PlannedTask("T3", "Approve", "", TaskKind.Human, null, ["T1", "T2"], "Approve it."),
        ], "test"), TokenUsage.Zero, [], AwaitReview: false)).After!;

    /// <summary>T1 (with a form) waits, T2 runs.</summary>
    static RunState Waiting() => RunTransitions.StartTasks(Planned(), 0, ["T1"], ["T2"], Now).After!;
}
