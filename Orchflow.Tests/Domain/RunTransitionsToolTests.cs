using Orchflow.Domain;

namespace Orchflow.Tests.Domain;

/// <summary>
/// The tool calls of an agent task's loop as <see cref="RunTransitions"/> decides them (docs/api.md, "Tools"): asked,
/// made, waiting for a person who lets them be made (as asked or edited, the edit checked against the tool's schema) or
/// refuses them; each change announced by its own event.
/// </summary>
[TestFixture]
public sealed class RunTransitionsToolTests
{
    static readonly DateTimeOffset Now = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    const string Schema = """{"type":"object","properties":{"to":{"type":"string","format":"email"},"subject":{"type":"string","maxLength":20}},"required":["to"]}""";

    [Test]
    public void AskTools_NewStep_RecordsEachCallRunningWithItsCostAndAnnouncesEach()
    {
        var decision = RunTransitions.AskTools(Running(), 0, "T1", 1, [Ask("tc_1", false), Ask("tc_2", true)], new TokenUsage(3, 4), Now);

        var task = decision.After!.Task("T1")!;
        Assert.Multiple(() =>
        {
            Assert.That(task.ToolCalls.Select(c => (c.CallId, c.State, c.Step)), Is.EqualTo(new[]
            {
                ("tc_1", ToolCallState.Running, 1), ("tc_2", ToolCallState.Running, 1),
            }));
            Assert.That(task.Usage, Is.EqualTo(new TokenUsage(3, 4)));
            Assert.That(decision.After.Usage, Is.EqualTo(new TokenUsage(3, 4)));
            Assert.That(Types(decision), Is.EqualTo(new[] { "task.tool_call.started T1", "task.tool_call.started T1" }));
            Assert.That(decision.Events[0].Data["call_id"]!.GetValue<string>(), Is.EqualTo("tc_1"));
            Assert.That(RunTransitions.AskTools(decision.After, 0, "T1", 1, [Ask("tc_3", false)], TokenUsage.Zero, Now), Is.SameAs(Decision.Unchanged),
                "a step recorded before lands once");
        });
    }

    [Test]
    public void FinishToolCall_RecordsTheResultOnceAndAnnouncesIt()
    {
        var asked = RunTransitions.AskTools(Running(), 0, "T1", 1, [Ask("tc_1", false)], TokenUsage.Zero, Now).After!;

        var done = RunTransitions.FinishToolCall(asked, 0, "T1", "tc_1", "Sent.", null, Now);
        var failed = RunTransitions.FinishToolCall(asked, 0, "T1", "tc_1", null, "The server is down.", Now);

        Assert.Multiple(() =>
        {
            Assert.That(done.ToolResults["tc_1"], Is.EqualTo("Sent."));
            Assert.That(done.After!.Task("T1")!.ToolCalls[0].State, Is.EqualTo(ToolCallState.Completed));
            Assert.That(Types(done), Is.EqualTo(new[] { "task.tool_call.completed T1" }));
            Assert.That(failed.After!.Task("T1")!.ToolCalls[0].Error, Is.EqualTo("The server is down."));
            Assert.That(Types(failed), Is.EqualTo(new[] { "task.tool_call.failed T1" }));
            Assert.That(RunTransitions.FinishToolCall(done.After, 0, "T1", "tc_1", "Again.", null, Now), Is.SameAs(Decision.Unchanged));
        });
    }

    [Test]
    public void AwaitToolApproval_CallOfAToolAPersonApproves_TheTaskAndTheRunWaitOnIt()
    {
        var decision = RunTransitions.AwaitToolApproval(Asked(), 0, "T1", "tc_1", Now);

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(decision.After.WaitingOn, Is.EqualTo(new[] { "T1" }));
            Assert.That(decision.After.Task("T1")!.PendingToolCall!.CallId, Is.EqualTo("tc_1"));
            Assert.That(Types(decision), Is.EqualTo(new[] { "task.tool_call.waiting_human T1", "task.waiting_human T1", "run.waiting_human" }));
            Assert.That(decision.Events[1].Data["pending_tool_call"]!["tool"]!.GetValue<string>(), Is.EqualTo("send_email"));
        });
    }

    [Test]
    public void Answer_ApprovedAsAskedOrEditedOrRefused_TheLoopGoesOn()
    {
        var waiting = RunTransitions.AwaitToolApproval(Asked(), 0, "T1", "tc_1", Now).After!;

        var approved = RunTransitions.Answer(waiting, "T1", new HumanAnswer(true, null, null), Now);
        var edited = RunTransitions.Answer(waiting, "T1", new HumanAnswer(true, null, null, """{"to":"b@example.com"}"""), Now);
        var refused = RunTransitions.Answer(waiting, "T1", new HumanAnswer(false, null, "Not to customers."), Now);

        Assert.Multiple(() =>
        {
            Assert.That(approved.After!.Task("T1")!.ToolCalls[0], Has.Property(nameof(ToolCall.State)).EqualTo(ToolCallState.Running)
                .And.Property(nameof(ToolCall.Approved)).True);
            Assert.That(approved.After.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(Types(approved), Is.EqualTo(new[] { "task.tool_call.started T1", "task.started T1", "run.running" }));
            Assert.That(approved.Events[1].Data["resumed"]!.GetValue<bool>(), Is.True, "the loop goes on; the task is not redone");
            Assert.That(edited.After!.Task("T1")!.ToolCalls[0].Arguments, Is.EqualTo("""{"to":"b@example.com"}"""));
            Assert.That(refused.After!.Task("T1")!.ToolCalls[0], Has.Property(nameof(ToolCall.State)).EqualTo(ToolCallState.Rejected)
                .And.Property(nameof(ToolCall.Feedback)).EqualTo("Not to customers."));
            Assert.That(Types(refused)[0], Is.EqualTo("task.tool_call.rejected T1"));
            Assert.That(refused.After.Task("T1")!.State, Is.EqualTo(TaskState.Running));
        });
    }

    [TestCase("""{"subject":"A subject that is far too long for it"}""", "arguments", "arguments.subject")]
    [TestCase("""{"to":"not an address"}""", "arguments.to")]
    public void Answer_EditedArgumentsOffTheToolsSchema_AreInvalidEachNamedByField(string arguments, params string[] fields)
    {
        var waiting = RunTransitions.AwaitToolApproval(Asked(), 0, "T1", "tc_1", Now).After!;

        var decision = RunTransitions.Answer(waiting, "T1", new HumanAnswer(true, null, null, arguments), Now);

        Assert.Multiple(() =>
        {
            Assert.That(decision.Refusal?.Kind, Is.EqualTo(RefusalKind.Invalid));
            Assert.That(decision.Problems.Select(p => p.Field).Distinct(), Is.EquivalentTo(fields));
        });
    }

    [TestCase(false, null, null, "feedback")]
    [TestCase(null, null, null, "approved")]
    [TestCase(true, "An output.", null, "output")]
    public void Answer_UnfitForACall_IsInvalidNamingTheField(bool? approved, string? output, string? feedback, string field)
    {
        var waiting = RunTransitions.AwaitToolApproval(Asked(), 0, "T1", "tc_1", Now).After!;

        Assert.That(RunTransitions.Answer(waiting, "T1", new HumanAnswer(approved, output, feedback), Now).Refusal?.Field, Is.EqualTo(field));
    }

    [Test]
    public void Cancel_TaskWaitingOnACall_EndsTheCallUnmade()
    {
        var waiting = RunTransitions.AwaitToolApproval(Asked(), 0, "T1", "tc_1", Now).After!;

        var decision = RunTransitions.Cancel(waiting, Now);

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Task("T1")!.ToolCalls[0].State, Is.EqualTo(ToolCallState.Failed));
            Assert.That(decision.After.Task("T1")!.PendingToolCall, Is.Null);
            Assert.That(Types(decision), Is.EqualTo(new[] { "task.tool_call.failed T1", "task.cancelled T1", "run.cancelled" }));
        });
    }

    [Test]
    public void ReopenToolCall_VerdictTheRunNeverHeard_TheCallWaitsAgain()
    {
        var waiting = RunTransitions.AwaitToolApproval(Asked(), 0, "T1", "tc_1", Now).After!;
        var approved = RunTransitions.Answer(waiting, "T1", new HumanAnswer(true, null, null), Now).After!;

        var reopened = RunTransitions.ReopenToolCall(approved, "T1", approved.Task("T1")!.ToolCalls[0]);
        var dispatched = RunTransitions.DispatchToolCall(approved, 0, "T1", "tc_1").After!;

        Assert.Multiple(() =>
        {
            Assert.That(reopened.After!.Task("T1")!.PendingToolCall!.CallId, Is.EqualTo("tc_1"));
            Assert.That(reopened.After.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(RunTransitions.ReopenToolCall(dispatched, "T1", approved.Task("T1")!.ToolCalls[0]), Is.SameAs(Decision.Unchanged),
                "a call being made is not taken back");
        });
    }

    static ToolCallAsk Ask(string callId, bool approve) => new(callId, "m_" + callId, "send_email", """{"to":"a@example.com"}""", approve, Schema);

    static string[] Types(Decision decision) => decision.Events.Select(e => $"{e.Type} {e.TaskId}".Trim()).ToArray();

    static RunState Running() => new()
    {
        RunId = "run_1", AccountId = "acc_1", Status = RunStatus.Running,
        Tasks = [new TaskRecord { TaskId = "T1", Name = "Email the customer", Kind = TaskKind.Agent, Agent = "writer", State = TaskState.Running }],
    };

    static RunState Asked() => RunTransitions.AskTools(Running(), 0, "T1", 1, [Ask("tc_1", true)], TokenUsage.Zero, Now).After!;
}
