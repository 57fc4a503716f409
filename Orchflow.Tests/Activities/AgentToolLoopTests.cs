using Microsoft.DurableTask;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using Orchflow.Abstractions;
using Orchflow.Activities;
using Orchflow.Domain;
using Orchflow.Orchestrators;
using Orchflow.Tests.Infrastructure;

namespace Orchflow.Tests.Activities;

/// <summary>
/// An agent task's tool loop through its activity: a step's asks recorded while its first call is made (with its outcome
/// when it answers within the grace), each outcome recorded before the model sees it, nothing
/// recorded made or asked again when the activity runs again, calls a person approves waiting for them and made at
/// most once, and every way a call can go wrong told to the model instead of failing the task.
/// </summary>
[TestFixture]
public sealed class AgentToolLoopTests
{
    const string AccountId = "acct-1";
    const string RunId = "run-1";
    const string Schema = """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""";

    [Test]
    public async Task RunAsync_ModelAsksACall_TheOutcomeIsRecordedBeforeTheModelSeesItThenTheOutputIsTheTasks()
    {
        var (runs, toolbox) = Setup(approve: false);
        var model = new ScriptedModel(runs, Ask("weather", """{"city":"Oslo"}"""), Answer("It is cold in Oslo."));

        var result = await Run(runs, toolbox, model);

        var task = runs.Run(RunId).Tasks[0];
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(new AgentTaskResult(Recorded: true, "It is cold in Oslo.".Length, Version: runs.Run(RunId).Version)),
                "the version the output landed at is the orchestrator's to pass on");
            Assert.That(toolbox.Calls, Is.EqualTo(new[] { ("weather", """{"city":"Oslo"}""") }));
            Assert.That(model.Seen[1].Single().Result, Is.EqualTo("Cold, 2 °C."), "the second turn is given the recorded result");
            Assert.That(model.RecordedWhenSeen, Is.EqualTo(new[] { 0, 1 }), "recorded in the store before the model was asked");
            Assert.That(task.State, Is.EqualTo(TaskState.Completed));
            Assert.That(task.Output, Is.EqualTo("It is cold in Oslo."));
            Assert.That(task.ToolCalls.Single().State, Is.EqualTo(ToolCallState.Completed));
            Assert.That(task.Usage, Is.EqualTo(new TokenUsage(2, 2)), "each turn's cost is the task's");
        });
    }

    [Test]
    public async Task RunAsync_CallAnsweredWithinTheGrace_ItsAskAndOutcomeAreRecordedInOneChange()
    {
        var (runs, _) = Setup(approve: false);
        var asksRecorded = () => runs.Run(RunId).Tasks[0].ToolCalls.Count;
        var (whenReadied, whenMade) = (new List<int>(), new List<int>());
        var toolbox = new FakeToolbox { Readying = _ => whenReadied.Add(asksRecorded()), Making = _ => whenMade.Add(asksRecorded()) }
            .With("weather", _ => ToolOutcome.Succeeded("Cold, 2 °C."), Schema);

        await Run(runs, toolbox, new ScriptedModel(runs, Ask("weather", """{"city":"Oslo"}"""), Answer("Cold.")));

        var call = runs.Run(RunId).Tasks[0].ToolCalls.Single();
        Assert.Multiple(() =>
        {
            Assert.That(whenReadied[0], Is.Zero, "made ready before its ask was recorded");
            Assert.That(whenMade, Is.EqualTo(new[] { 0 }), "made once, while its ask was not yet recorded");
            Assert.That(runs.Logged, Is.EqualTo(new[] { new[] { "task.tool_call.started", "task.tool_call.completed" }, new[] { "task.completed" } }),
                "the ask and the outcome in one change, the ask's event first");
            Assert.That(call.State, Is.EqualTo(ToolCallState.Completed));
        });
    }

    [Test]
    public async Task RunAsync_CallSlowerThanTheGrace_ItsAskIsRecordedWhileItGoesOnAndItsOutcomeAfter()
    {
        var (runs, _) = Setup(approve: false);
        var toolbox = new FakeToolbox().With("weather", async (_, token) =>
        {
            // Answers only once its ask is recorded: the loop does not wait for the call to record it.
            await WaitForAsync(() => runs.Run(RunId).Tasks[0].ToolCalls.Count == 1, token);
            return ToolOutcome.Succeeded("Cold, 2 °C.");
        }, Schema);
        var model = new ScriptedModel(runs, Ask("weather", """{"city":"Oslo"}"""), Answer("It is cold in Oslo."));

        var result = await Run(runs, toolbox, model).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(new AgentTaskResult(Recorded: true, "It is cold in Oslo.".Length, Version: runs.Run(RunId).Version)),
                "the version the output landed at is the orchestrator's to pass on");
            Assert.That(runs.Logged, Is.EqualTo(new[] { new[] { "task.tool_call.started" }, new[] { "task.tool_call.completed" }, new[] { "task.completed" } }));
            Assert.That(model.Seen[1].Single().Result, Is.EqualTo("Cold, 2 °C."), "the outcome recorded before the model is given it");
        });
    }

    [Test]
    public async Task RunAsync_RunCancelledWhileACallWaitsForItsAsk_StopsTheCallAndRecordsNothingOfIt()
    {
        var (runs, _) = Setup(approve: false);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var toolbox = new FakeToolbox().With("weather", async (_, token) =>
        {
            await runs.ChangeAsync(AccountId, RunId, (run, now) => RunTransitions.Cancel(run, now), CancellationToken.None);
            await using var registration = token.Register(() => stopped.SetResult());
            await Task.Delay(Timeout.Infinite, token);
            return ToolOutcome.Succeeded("never");
        }, Schema);

        var result = await Run(runs, toolbox, new ScriptedModel(runs, Ask("weather", """{"city":"Oslo"}"""))).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(new AgentTaskResult(Recorded: false)));
            Assert.That(stopped.Task.IsCompleted, Is.True, "the call was told to stop");
            Assert.That(runs.Calls[^1], Does.StartWith("change refused"), "the ask, refused");
            Assert.That(runs.Run(RunId).Tasks[0].ToolCalls, Is.Empty);
        });
    }

    [Test]
    public async Task RunAsync_StepsAfterTheFirst_TheNextTurnIsAskedWhileTheStepIsRecordedAndActedOnOnceItLanded()
    {
        var (runs, _) = Setup(approve: false);
        var recordedWhenMade = new List<int>();
        var toolbox = new FakeToolbox { Making = _ => recordedWhenMade.Add(runs.Run(RunId).Tasks[0].ToolCalls.Count(c => c.IsDone)) }
            .With("weather", _ => ToolOutcome.Succeeded("Cold, 2 °C."), Schema);
        var model = new ScriptedModel(runs,
            Ask("weather", """{"city":"Oslo"}"""), Ask("weather", """{"city":"Bergen"}"""), Ask("weather", """{"city":"Tromsø"}"""), Answer("Cold everywhere."));

        var result = await Run(runs, toolbox, model);

        var task = runs.Run(RunId).Tasks[0];
        Assert.Multiple(() =>
        {
            Assert.That(result.Recorded, Is.True);
            Assert.That(model.RecordedWhenSeen, Is.EqualTo(new[] { 0, 1, 1, 2 }),
                "the first step is recorded before the next turn; each later one while the model is given it");
            Assert.That(model.Seen[2].Select(c => (c.Arguments, c.State, c.Result)), Is.EqualTo(new[]
            {
                ("""{"city":"Oslo"}""", ToolCallState.Completed, "Cold, 2 °C."), ("""{"city":"Bergen"}""", ToolCallState.Completed, "Cold, 2 °C."),
            }), "given the calls as the change in flight records them");
            Assert.That(recordedWhenMade, Is.EqualTo(new[] { 0, 1, 2 }), "a turn's answer is acted on only once the step before it is recorded");
            Assert.That(task.ToolCalls.Select(c => (c.Step, c.State, c.Result)), Is.EqualTo(new[]
            {
                (1, ToolCallState.Completed, "Cold, 2 °C."), (2, ToolCallState.Completed, "Cold, 2 °C."), (3, ToolCallState.Completed, "Cold, 2 °C."),
            }));
            Assert.That(task.Output, Is.EqualTo("Cold everywhere."));
            Assert.That(task.Usage, Is.EqualTo(new TokenUsage(4, 4)), "each turn's cost recorded once");
        });
    }

    [Test]
    public async Task RunAsync_TaskWhoseStartTheActivityRecorded_ItsSecondTurnIsAlreadyAskedWhileTheFirstStepIsRecorded()
    {
        var (runs, toolbox) = Setup(approve: false);
        runs.Put(runs.Run(RunId) with { Tasks = [runs.Run(RunId).Tasks[0] with { State = TaskState.Pending }] });
        var model = new ScriptedModel(runs, Ask("weather", """{"city":"Oslo"}"""), Ask("weather", """{"city":"Bergen"}"""), Answer("Cold."));

        var result = await Run(runs, toolbox, model, recordStart: true);

        Assert.Multiple(() =>
        {
            Assert.That(result.Recorded, Is.True);
            Assert.That(model.RecordedWhenSeen, Is.EqualTo(new[] { 0, 0, 1 }), "the start's change is what the first step is decided on, ahead");
            Assert.That(runs.Run(RunId).Tasks[0].ToolCalls.Select(c => c.State), Is.EqualTo(new[] { ToolCallState.Completed, ToolCallState.Completed }));
        });
    }

    [Test]
    public async Task RunAsync_ToolTaskToldTheVersionItsInputsReached_StillReadsWhereItsLoopStandsFromStorage()
    {
        var (runs, toolbox) = Setup(approve: false);

        await Run(runs, toolbox, new ScriptedModel(runs, Answer("Cold.")), reached: 7);

        Assert.Multiple(() =>
        {
            Assert.That(runs.ReachedAsked, Is.EqualTo(new[] { 7L }));
            Assert.That(runs.Calls.Take(2), Is.EqualTo(new[] { "read", "read" }),
                "read again as stored: an earlier execution may have taken the loop further unheard of");
        });
    }

    [Test]
    public async Task RunAsync_RunCancelledWhileAStepIsRecordedWithTheNextTurn_TheTurnIsStoppedAndTheStepNotRecorded()
    {
        var (runs, toolbox) = Setup(approve: false);
        var changes = 0;
        runs.OnChange = () =>
        {
            // The second step's change, asked for with the third turn: the run is cancelled just before it is decided.
            if (++changes == 2)
            {
                runs.Put(runs.Run(RunId) with { Status = RunStatus.Cancelled, Tasks = [runs.Run(RunId).Tasks[0] with { State = TaskState.Cancelled }] });
            }
        };
        var model = new ScriptedModel(runs, Ask("weather", """{"city":"Oslo"}"""), Ask("weather", """{"city":"Bergen"}""")) { WaitsFrom = 2 };

        var result = await Run(runs, toolbox, model).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(new AgentTaskResult(Recorded: false)));
            Assert.That(model.Stopped, Is.EqualTo(1), "the third turn was told to stop");
            Assert.That(runs.Calls[^1], Does.StartWith("change refused"));
            Assert.That(runs.Run(RunId).Tasks[0].ToolCalls.Select(c => c.Arguments), Is.EqualTo(new[] { """{"city":"Oslo"}""" }),
                "nothing of the second step is recorded; it is made again should the task run again");
        });
    }

    [Test]
    public async Task RunAsync_BudgetLeftOnceTheStepIsRecorded_TheNextTurnIsAskedWhileItIs()
    {
        var (runs, toolbox) = Setup(approve: false, budget: new RunBudget(MaxTokens: 1_000, MaxToolCalls: 10));
        var model = new ScriptedModel(runs, Ask("weather", """{"city":"Oslo"}"""), Ask("weather", """{"city":"Bergen"}"""), Answer("Cold."));

        await Run(runs, toolbox, model);

        Assert.That(model.RecordedWhenSeen, Is.EqualTo(new[] { 0, 1, 1 }));
    }

    [Test]
    public async Task RunAsync_BudgetSpentByTheStep_NoTurnIsAskedAndTheTaskPausesOnTheRecord()
    {
        // Each turn costs 2 tokens: the second step's ask spends the fourth, and with it the budget.
        var (runs, toolbox) = Setup(approve: false, budget: new RunBudget(MaxTokens: 4));
        var model = new ScriptedModel(runs, Ask("weather", """{"city":"Oslo"}"""), Ask("weather", """{"city":"Bergen"}"""), Answer("Cold."));

        var result = await Run(runs, toolbox, model);

        Assert.Multiple(() =>
        {
            Assert.That(model.Seen, Has.Count.EqualTo(2), "no third turn past the spent budget");
            Assert.That(result.PausedOnBudget, Is.Not.Null);
            Assert.That(runs.Run(RunId).Tasks[0].ToolCalls.Select(c => c.State), Is.EqualTo(new[] { ToolCallState.Completed, ToolCallState.Completed }));
        });
    }

    [Test]
    public async Task RunAsync_BudgetSpentByAnotherTaskWhileTheStepIsRecorded_TheTurnAskedMeanwhileIsDroppedAndTheTaskPauses()
    {
        var (runs, toolbox) = Setup(approve: false, budget: new RunBudget(MaxTokens: 100));
        var changes = 0;
        runs.OnChange = () =>
        {
            // Just before the second step's change, asked for with the third turn, another task's cost spends the budget.
            if (++changes == 2)
            {
                runs.Put(runs.Run(RunId) with { Usage = runs.Run(RunId).Usage + new TokenUsage(50, 50) });
            }
        };
        var model = new ScriptedModel(runs, Ask("weather", """{"city":"Oslo"}"""), Ask("weather", """{"city":"Bergen"}""")) { WaitsFrom = 2 };

        var result = await Run(runs, toolbox, model).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(model.Stopped, Is.EqualTo(1), "the third turn, asked while the step was recorded, was told to stop");
            Assert.That(result.PausedOnBudget, Is.Not.Null, "the task waits for a person to raise the budget");
            Assert.That(runs.Run(RunId).Tasks[0].ToolCalls.Select(c => c.State), Is.EqualTo(new[] { ToolCallState.Completed, ToolCallState.Completed }),
                "the step itself is recorded");
        });
    }

    [Test]
    public async Task RunAsync_StepOfTwoCalls_TheFirstIsMadeWhileBothAreAskedAndTheSecondAfter()
    {
        var (runs, toolbox) = Setup(approve: false);
        var model = new ScriptedModel(runs,
            () => new AgentTurn(null, [new ModelToolCall("m1", "weather", """{"city":"Oslo"}"""), new ModelToolCall("m2", "weather", """{"city":"Bergen"}""")]),
            Answer("Cold in both."));

        await Run(runs, toolbox, model);

        Assert.Multiple(() =>
        {
            Assert.That(toolbox.Calls.Select(c => c.Arguments), Is.EqualTo(new[] { """{"city":"Oslo"}""", """{"city":"Bergen"}""" }));
            Assert.That(runs.Logged, Is.EqualTo(new[]
            {
                new[] { "task.tool_call.started", "task.tool_call.started", "task.tool_call.completed" },
                new[] { "task.tool_call.completed" },
                new[] { "task.completed" },
            }), "both asks land with the first outcome; the second call is made once they have");
            Assert.That(model.Seen[1].Select(c => c.State), Is.All.EqualTo(ToolCallState.Completed));
        });
    }

    [Test]
    public async Task RunAsync_RetriedMeanwhileWithAPlanWithoutTheTask_ReportsNothingRecorded()
    {
        var (runs, toolbox) = Setup(approve: false);
        // A retry whose reviewed plan left this task out is in place when the step's asks are recorded.
        runs.OnChange = () =>
        {
            runs.OnChange = null;
            runs.Put(runs.Run(RunId) with { Attempt = 1, Tasks = [] });
        };

        var result = await Run(runs, toolbox, new ScriptedModel(runs, Ask("weather", """{"city":"Oslo"}""")));

        Assert.That(result, Is.EqualTo(new AgentTaskResult(Recorded: false)));
    }

    [Test]
    public async Task RunAsync_ModelCallsTheSameToolAgain_ItsServerIsReadWhileTheModelIsAsked()
    {
        var (runs, _) = Setup(approve: false);
        ScriptedModel? model = null;
        var readAtTurn = new List<int>();
        var toolbox = new FakeToolbox { Readying = _ => readAtTurn.Add(model!.Seen.Count) }.With("weather", _ => ToolOutcome.Succeeded("Cold, 2 °C."), Schema);
        model = new ScriptedModel(runs, Ask("weather", """{"city":"Oslo"}"""), Ask("weather", """{"city":"Bergen"}"""), Answer("Cold in both."));

        await Run(runs, toolbox, model);

        Assert.Multiple(() =>
        {
            Assert.That(readAtTurn, Is.EqualTo(new[] { 1, 1, 2 }),
                "read after the first turn asked for it; then before each later turn, for the tool the turn before called, and never after");
            Assert.That(toolbox.Calls, Has.Count.EqualTo(2));
        });
    }

    [Test]
    public async Task RunAsync_RunAgainAfterACallWasRecorded_NeitherMakesTheCallNorAsksThatTurnAgain()
    {
        var (runs, toolbox) = Setup(approve: false);
        Assert.ThrowsAsync<InvalidOperationException>(() => Run(runs, toolbox, new ScriptedModel(runs, Ask("weather", """{"city":"Oslo"}"""), Fails())));
        Assert.That(runs.Run(RunId).Tasks[0].ToolCalls.Single().State, Is.EqualTo(ToolCallState.Completed), "precondition: the first execution died after the call");

        var again = new ScriptedModel(runs, Answer("Done."));
        await Run(runs, toolbox, again);

        Assert.Multiple(() =>
        {
            Assert.That(toolbox.Calls, Has.Count.EqualTo(1), "the recorded call is not made again");
            Assert.That(again.Seen, Has.Count.EqualTo(1), "only the turn whose answer was not recorded is asked");
            Assert.That(runs.Run(RunId).Tasks[0].Output, Is.EqualTo("Done."));
        });
    }

    [Test]
    public async Task RunAsync_ToolAPersonApproves_WaitsForThemAndMakesTheCallOnceApprovedWithTheirEdit()
    {
        var (runs, toolbox) = Setup(approve: true);
        var model = new ScriptedModel(runs, Ask("weather", """{"city":"Oslo"}"""), Answer("It is cold in Bergen."));

        var waiting = await Run(runs, toolbox, model);
        var call = runs.Run(RunId).Tasks[0].PendingToolCall!;
        Assert.Multiple(() =>
        {
            Assert.That(waiting, Is.EqualTo(new AgentTaskResult(Recorded: true, WaitingCall: call.CallId, Version: runs.Run(RunId).Version)));
            Assert.That(toolbox.Calls, Is.Empty, "nothing is made before the person approves");
            Assert.That(runs.Run(RunId).Status, Is.EqualTo(RunStatus.WaitingHuman));
        });

        var answered = await runs.AnswerAsync(AccountId, RunId, "T1", new HumanAnswer(true, null, null, """{"city":"Bergen"}"""));
        Assert.That(answered!.Refusal, Is.Null);
        await Run(runs, toolbox, model);

        Assert.Multiple(() =>
        {
            Assert.That(toolbox.Calls, Is.EqualTo(new[] { ("weather", """{"city":"Bergen"}""") }));
            Assert.That(runs.Run(RunId).Tasks[0].ToolCalls.Single(), Has.Property(nameof(ToolCall.Approved)).True.And.Property(nameof(ToolCall.Dispatched)).True);
            Assert.That(runs.Run(RunId).Tasks[0].State, Is.EqualTo(TaskState.Completed));
        });
    }

    [Test]
    public async Task RunAsync_ApprovedCallCutOffBeforeItsOutcomeWasRecorded_IsNotMadeAgainAndTheModelIsToldItIsUnknown()
    {
        var (runs, toolbox, callId) = await ApprovedCallAsync();
        // As a worker that died between marking the call made and recording its outcome leaves it.
        await runs.ChangeAsync(AccountId, RunId, (run, _) => RunTransitions.DispatchToolCall(run, 0, "T1", callId), CancellationToken.None);

        var model = new ScriptedModel(runs, Answer("I could not learn the weather."));
        await Run(runs, toolbox, model);

        Assert.Multiple(() =>
        {
            Assert.That(toolbox.Calls, Is.Empty);
            Assert.That(model.Seen[0].Single().State, Is.EqualTo(ToolCallState.Failed));
            Assert.That(model.Seen[0].Single().Error, Does.Contain("not made again"));
        });
    }

    [Test]
    public async Task RunAsync_ApprovedCallMarkedMadeByAnotherExecutionMeanwhile_IsNotMadeAgainAndTheModelIsToldItIsUnknown()
    {
        var (runs, toolbox, callId) = await ApprovedCallAsync();
        // Another execution of the activity, on a copy this one never saw, marks the call made just before this one does.
        runs.OnChange = () =>
        {
            runs.OnChange = null;
            runs.ChangeAsync(AccountId, RunId, (run, _) => RunTransitions.DispatchToolCall(run, 0, "T1", callId), CancellationToken.None).GetAwaiter().GetResult();
        };

        var model = new ScriptedModel(runs, Answer("I could not learn the weather."));
        await Run(runs, toolbox, model);

        Assert.Multiple(() =>
        {
            Assert.That(toolbox.Calls, Is.Empty, "an approved call is made at most once");
            Assert.That(model.Seen[0].Single().Error, Does.Contain("not made again"));
            Assert.That(runs.Run(RunId).Tasks[0].State, Is.EqualTo(TaskState.Completed));
        });
    }

    [Test]
    public async Task RunAsync_OutcomeRecordedByAnotherExecutionWhileTheNextTurnIsAsked_TheTurnIsDroppedAndAskedAgainFromTheRecord()
    {
        var (runs, _) = Setup(approve: false);
        // The second call outlasts the grace, so its ask is recorded on its own while it is made.
        var toolbox = new FakeToolbox().With("weather", async (arguments, token) =>
        {
            if (arguments.Contains("Bergen", StringComparison.Ordinal))
            {
                await Task.Delay(50, token);
            }

            return ToolOutcome.Succeeded("Cold, 2 °C.");
        }, Schema);
        var changes = 0;
        runs.OnChange = () =>
        {
            // Just before this execution records the second call's outcome (with the third turn asked), another execution
            // of the activity records the same call's outcome, as it found it.
            if (++changes == 3)
            {
                var callId = runs.Run(RunId).Tasks[0].ToolCalls.Single(c => c.State == ToolCallState.Running).CallId;
                runs.ChangeAsync(AccountId, RunId, (run, now) => RunTransitions.FinishToolCall(run, 0, "T1", callId, "Mild, 9 °C.", null, now),
                    CancellationToken.None).GetAwaiter().GetResult();
            }
        };
        var model = new ScriptedModel(runs, Ask("weather", """{"city":"Oslo"}"""), Ask("weather", """{"city":"Bergen"}"""), Answer("Dropped."), Answer("Mild in Bergen."));

        await Run(runs, toolbox, model);

        var task = runs.Run(RunId).Tasks[0];
        Assert.Multiple(() =>
        {
            Assert.That(model.Seen[2].Select(c => c.Result), Is.EqualTo(new[] { "Cold, 2 °C.", "Cold, 2 °C." }), "the turn asked while the outcome was recorded");
            Assert.That(model.Seen[3].Select(c => c.Result), Is.EqualTo(new[] { "Cold, 2 °C.", "Mild, 9 °C." }), "asked again with the result the record holds");
            Assert.That(task.Output, Is.EqualTo("Mild in Bergen."), "the dropped turn's answer is never acted on");
        });
    }

    [Test]
    public async Task RunAsync_PersonRefusesTheCall_ItIsNotMadeAndTheModelIsToldWhy()
    {
        var (runs, toolbox) = Setup(approve: true);
        await Run(runs, toolbox, new ScriptedModel(runs, Ask("weather", """{"city":"Oslo"}""")));

        await runs.AnswerAsync(AccountId, RunId, "T1", new HumanAnswer(false, null, "Do not look up the weather."));
        var model = new ScriptedModel(runs, Answer("Written without the weather."));
        await Run(runs, toolbox, model);

        Assert.Multiple(() =>
        {
            Assert.That(toolbox.Calls, Is.Empty);
            Assert.That(model.Seen[0].Single(), Has.Property(nameof(ToolCall.State)).EqualTo(ToolCallState.Rejected)
                .And.Property(nameof(ToolCall.Feedback)).EqualTo("Do not look up the weather."));
        });
    }

    [Test]
    public async Task RunAsync_UnknownToolArgumentsOffSchemaOrAFailingTool_AreToldToTheModelAndTheTaskGoesOn()
    {
        var (runs, toolbox) = Setup(approve: false, failing: true);
        var model = new ScriptedModel(runs,
            Ask("no_such_tool", "{}"), Ask("weather", """{"town":"Oslo"}"""), Ask("weather", """{"city":"Oslo"}"""), Answer("Done anyway."));

        var result = await Run(runs, toolbox, model);

        var calls = runs.Run(RunId).Tasks[0].ToolCalls;
        Assert.Multiple(() =>
        {
            Assert.That(result.Recorded, Is.True);
            Assert.That(calls.Select(c => c.State), Is.All.EqualTo(ToolCallState.Failed));
            Assert.That(calls[0].Error, Does.Contain("no tool 'no_such_tool'"));
            Assert.That(calls[1].Error, Does.Contain("arguments"));
            Assert.That(calls[2].Error, Is.EqualTo("The weather service is down."));
            Assert.That(toolbox.Calls, Has.Count.EqualTo(1), "only the call that fits is made");
            Assert.That(runs.Run(RunId).Tasks[0].Output, Is.EqualTo("Done anyway."));
        });
    }

    [Test]
    public async Task RunAsync_ModelThatNeverStopsCalling_IsOfferedNoToolsOnceItsCallsAreSpent()
    {
        var (runs, toolbox) = Setup(approve: false, maxToolCalls: 3);
        var model = new ScriptedModel(runs, Enumerable.Repeat(Ask("weather", """{"city":"Oslo"}"""), 10).Append(Answer("Enough.")).ToArray())
        {
            AnswersWhenOfferedNothing = "Enough.",
        };

        await Run(runs, toolbox, model);

        Assert.Multiple(() =>
        {
            Assert.That(toolbox.Calls, Has.Count.EqualTo(3));
            Assert.That(model.Offered[^1], Is.Zero, "the last turn is offered no tools");
            Assert.That(runs.Run(RunId).Tasks[0].Output, Is.EqualTo("Enough."));
        });
    }

    /// <summary>A task whose call to a tool a person approves waited for them, and was approved as asked.</summary>
    static async Task<(InMemoryRunStore Runs, FakeToolbox Toolbox, string CallId)> ApprovedCallAsync()
    {
        var (runs, toolbox) = Setup(approve: true);
        await Run(runs, toolbox, new ScriptedModel(runs, Ask("weather", """{"city":"Oslo"}""")));
        await runs.AnswerAsync(AccountId, RunId, "T1", new HumanAnswer(true, null, null));
        return (runs, toolbox, runs.Run(RunId).Tasks[0].ToolCalls.Single().CallId);
    }

    /// <summary>A run whose agent task T1 runs, offered the weather tool (approved by a person when <paramref name="approve"/>).</summary>
    static (InMemoryRunStore Runs, FakeToolbox Toolbox) Setup(bool approve, bool failing = false, int maxToolCalls = 10, RunBudget? budget = null)
    {
        var now = DateTimeOffset.UtcNow;
        var runs = new InMemoryRunStore();
        runs.Put(new RunRecord
        {
            RunId = RunId, AccountId = AccountId, Status = RunStatus.Running, CreatedAt = now, UpdatedAt = now, Budget = budget ?? RunBudget.None,
            Definition = new RunDefinition("Plan a trip.", [], [], [], false, null, null, Tools: ["weather"], ApproveTools: approve ? ["weather"] : null,
                MaxToolCalls: maxToolCalls),
            Tasks = [new TaskRecord { TaskId = "T1", Name = "Check the weather", Kind = TaskKind.Agent, Agent = "research", State = TaskState.Running }],
        });
        var toolbox = new FakeToolbox().With("weather", _ => failing ? ToolOutcome.Failed("The weather service is down.") : ToolOutcome.Succeeded("Cold, 2 °C."), Schema);
        return (runs, toolbox);
    }

    static Task<AgentTaskResult> Run(InMemoryRunStore runs, FakeToolbox toolbox, IRunModel model, bool recordStart = false, long reached = 0)
    {
        var models = new Mock<IRunModelFactory>();
        models.Setup(f => f.ForRunAsync(AccountId, null, It.IsAny<CancellationToken>())).ReturnsAsync(model);
        var activity = new ExecuteAgentTaskActivity(runs, models.Object, toolbox, new MemoryLiveOutputStore().Outputs(), Options.Create(new EngineOptions()), TimeProvider.System,
            NullLogger<ExecuteAgentTaskActivity>.Instance);
        return activity.RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T1", AwaitApproval: false, RecordStart: recordStart, Reached: reached));
    }

    static Func<AgentTurn> Ask(string tool, string arguments) => () => new AgentTurn(null, [new ModelToolCall("m1", tool, arguments)]);

    static Func<AgentTurn> Answer(string output) => () => AgentTurn.Finished(output);

    static Func<AgentTurn> Fails() => () => throw new InvalidOperationException("The worker died.");

    static async Task WaitForAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        for (var waited = 0; !condition(); waited += 5)
        {
            Assert.That(waited, Is.LessThan(10_000), "timed out");
            await Task.Delay(5, cancellationToken);
        }
    }

    /// <summary>A model that answers each turn as scripted, noting what it was shown and how much of it was already recorded.</summary>
    sealed class ScriptedModel(InMemoryRunStore runs, params Func<AgentTurn>[] turns) : IRunModel
    {
        int next;

        public string Name => "scripted";

        public string? AnswersWhenOfferedNothing { get; init; }

        /// <summary>The calls each turn was shown.</summary>
        public List<IReadOnlyList<ToolCall>> Seen { get; } = [];

        /// <summary>How many calls the store had recorded done when each turn was asked.</summary>
        public List<int> RecordedWhenSeen { get; } = [];

        /// <summary>How many tools each turn was offered.</summary>
        public List<int> Offered { get; } = [];

        /// <summary>The turn from which on (0-based) each turn waits until it is told to stop, and never answers.</summary>
        public int? WaitsFrom { get; init; }

        /// <summary>How many waiting turns were told to stop.</summary>
        public int Stopped { get; private set; }

        public async Task<ModelReply<AgentTurn>> TurnAsync(
            AgentTaskRequest request, IReadOnlyList<ToolDefinition> tools, IReadOnlyList<ToolCall> calls, CancellationToken cancellationToken)
        {
            Seen.Add(calls);
            Offered.Add(tools.Count);
            RecordedWhenSeen.Add(runs.Run(RunId).Tasks[0].ToolCalls.Count(c => c.IsDone));
            if (Seen.Count > WaitsFrom)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => Stopped++, TaskScheduler.Default);
                throw new OperationCanceledException(cancellationToken);
            }

            var turn = tools.Count == 0 && AnswersWhenOfferedNothing is { } output ? AgentTurn.Finished(output) : turns[next++]();
            return new ModelReply<AgentTurn>(turn, new TokenUsage(1, 1));
        }

        public Task<ModelReply<string>> PlanAsync(PlanningRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<ModelReply<string>> RunTaskAsync(AgentTaskRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<ModelReply<string>> SynthesizeAsync(SynthesisRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
