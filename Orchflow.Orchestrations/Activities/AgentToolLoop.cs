using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Orchestrators;

namespace Orchflow.Activities;

/// <summary>
/// An agent task's tool loop, durable step by step: each call's outcome is recorded before the model's next answer is
/// acted on, and the loop goes on from what is recorded. So an activity run again (a worker that died, a task resumed
/// after a person's verdict) never makes a call whose outcome is recorded and never asks the model again for a turn
/// whose answer is recorded. A step's asks are recorded together: while its first call is made
/// (<see cref="CallUnderway{T}"/>), or with that call's outcome when it answers within the grace. Once a step's calls
/// are made, the next turn is asked while the step is recorded, given the calls as decided here on the run as last
/// recorded (<see cref="Ahead"/>). A call to a tool a person approves waits for them; a call they approved is marked
/// before it is made and, cut off before its outcome was recorded, is not made twice.
/// </summary>
sealed class AgentToolLoop(IRunStore runs, IToolbox toolbox, TimeProvider clock, ILogger log)
{
    readonly BudgetGate budget = new(runs);

    /// <summary>
    /// Runs the loop from where the task's record stands until the task has its output or waits for a person;
    /// <paramref name="started"/>: the change that recorded the task's start, when the activity just made it.
    /// </summary>
    public async Task<AgentTaskResult> RunAsync(
        AgentTaskInput input, RunRecord run, AgentTaskRequest request, IRunModel model, IReadOnlyList<ToolDefinition> tools, RunChange? started = null)
    {
        Track(started);
        var task = TaskOf(run, input.TaskId);
        var limit = run.Definition.MaxToolCalls;
        var readAhead = new Dictionary<string, Task<ReadyToolCall>>(StringComparer.Ordinal);
        // The last step's outcome, decided and not recorded yet: recorded while the model is given it, when it can be.
        RunDecider? unrecorded = null;
        while (true)
        {
            var ahead = unrecorded is null ? null : Ahead(unrecorded, task, tools.Count > 0);
            if (ahead is null)
            {
                var (caughtUp, stop) = await CatchUpAsync(input, run, unrecorded, tools, readAhead);
                if (stop is not null)
                {
                    return stop;
                }

                (run, task, unrecorded) = (caughtUp!, TaskOf(caughtUp!, input.TaskId), null);
            }

            // Once its calls are spent, the model is offered no tools: it is asked for its output.
            var calls = ahead ?? task.ToolCalls;
            var offered = calls.Count >= limit ? [] : tools;
            var likely = ReadLikely(input, calls, offered, run.Definition);
            ModelReply<AgentTurn> turn;
            if (ahead is null)
            {
                turn = await model.TurnAsync(request, offered, calls, CancellationToken.None);
            }
            else
            {
                var asked = await TurnWhileRecordingAsync(input, request, model, offered, ahead, unrecorded!, tools.Count > 0);
                unrecorded = null;
                if (asked.Recorded is not { Refusal: null } recorded)
                {
                    return Stopped(asked.Recorded, input);
                }

                (run, task) = (recorded.Run, TaskOf(recorded.Run, input.TaskId));
                if (asked.Turn is not { } answered)
                {
                    // Recorded otherwise than decided here (another execution of this activity got there first), or the
                    // budget spent meanwhile: the loop goes on from the record.
                    continue;
                }

                turn = answered;
            }

            if (turn.Value.Calls.Count == 0 || offered.Count == 0)
            {
                var output = turn.Value.Output ?? "";
                var result = new AgentResult(output, turn.Usage, input.AwaitApproval);
                var finished = await ChangeAsync(input, (state, now) => RunTransitions.FinishAgent(state, input.Attempt, input.TaskId, result, now));
                return finished is { Refusal: null } ? new AgentTaskResult(Recorded: true, output.Length, Version: finished.Run.Version) : Stopped(finished, input);
            }

            var step = task.ToolCalls.Select(c => c.Step).DefaultIfEmpty(0).Max() + 1;
            var allowed = Math.Min(limit - task.ToolCalls.Count, (run.Budget.MaxToolCalls ?? int.MaxValue) - RunBudget.CallsMade(run.Tasks));
            var asks = turn.Value.Calls.Take(allowed).Select(c => Ask(c, tools, run.Definition)).ToList();

            // What each call needs is read at once, unless it was read while the model was asked.
            foreach (var ask in asks.Where(a => !a.NeedsApproval && tools.Any(t => t.Name == a.Tool)))
            {
                readAhead[ask.CallId] = likely.Remove(ask.Tool, out var read)
                    ? read
                    : ReadAhead(input, ask.Tool);
            }

            if (asks is [{ NeedsApproval: false }, ..])
            {
                var (outcome, recorded) = await AskWhileCallingAsync(input, step, asks, turn.Usage, tools, readAhead);
                if (outcome is null)
                {
                    return Stopped(recorded, input);
                }

                (run, task, unrecorded) = recorded is null ? (run, task, outcome) : (recorded.Run, TaskOf(recorded.Run, input.TaskId), outcome);
                continue;
            }

            var recordedAsks = await ChangeAsync(input, (state, now) => RunTransitions.AskTools(state, input.Attempt, input.TaskId, step, asks, turn.Usage, now));
            if (recordedAsks is not { Refusal: null })
            {
                return Stopped(recordedAsks, input);
            }

            (run, task) = (recordedAsks.Run, TaskOf(recordedAsks.Run, input.TaskId));
        }
    }

    /// <summary>
    /// Brings the record up to the model's next turn: the last step's outcome recorded (when it was not written while
    /// the model was asked), the step's other calls made, or the task set waiting on one a person approves, and the
    /// budget checked before the model is asked, so that no turn is asked for only to be dropped. Returns the run as
    /// recorded, or what the activity reports when the task stops here.
    /// </summary>
    async Task<(RunRecord? Run, AgentTaskResult? Stop)> CatchUpAsync(
        AgentTaskInput input, RunRecord run, RunDecider? unrecorded, IReadOnlyList<ToolDefinition> tools, Dictionary<string, Task<ReadyToolCall>> readAhead)
    {
        if (unrecorded is not null)
        {
            var outcome = await ChangeAsync(input, unrecorded);
            if (outcome is not { Refusal: null })
            {
                return (null, Stopped(outcome, input));
            }

            run = outcome.Run;
        }

        foreach (var call in TaskOf(run, input.TaskId).ToolCalls.Where(c => c.State == ToolCallState.Running).ToList())
        {
            if (call is { NeedsApproval: true, Approved: false })
            {
                var waiting = await ChangeAsync(input, (state, now) => RunTransitions.AwaitToolApproval(state, input.Attempt, input.TaskId, call.CallId, now));
                return (null, waiting is { Refusal: null }
                    ? new AgentTaskResult(Recorded: true, WaitingCall: call.CallId, Version: waiting.Run.Version)
                    : Stopped(waiting, input));
            }

            // Taken out once used: a read ahead holds the server's headers, which need not outlive the call.
            readAhead.Remove(call.CallId, out var ready);
            var made = await MakeAsync(input, call, tools, ready);
            if (made is not { Refusal: null })
            {
                return (null, Stopped(made, input));
            }

            run = made.Run;
        }

        return (run, await budget.StopTurnAsync(input, run, tools.Count > 0));
    }

    /// <summary>
    /// Makes a step's first call while the step's asks are recorded: with that call's outcome, in one change, when the
    /// call answers within the grace; otherwise on their own once the grace is over. Asks refused meanwhile (the run
    /// ended or moved on) stop the call, and nothing of it is recorded. Returns the change that records the outcome
    /// (and the asks, when not recorded yet), not made yet, with the asks' own change when they were recorded; or no
    /// outcome and the asks' refusal. The step's other calls are made after, in the loop, as recorded.
    /// </summary>
    async Task<(RunDecider? Outcome, RunChange? Recorded)> AskWhileCallingAsync(
        AgentTaskInput input, int step, IReadOnlyList<ToolCallAsk> asks, TokenUsage usage, IReadOnlyList<ToolDefinition> tools,
        Dictionary<string, Task<ReadyToolCall>> readAhead)
    {
        var first = asks[0];
        readAhead.Remove(first.CallId, out var ready);
        var asked = clock.GetUtcNow();
        var call = new CallUnderway<ToolOutcome>(runs, input.AccountId, input.RunId,
            (state, _) => RunTransitions.AskTools(state, input.Attempt, input.TaskId, step, asks, usage, asked),
            (_, stop) => Unfit(first.Tool, first.Arguments, tools) is { } unfit
                ? Task.FromResult(unfit)
                : MadeAsync(input, first.CallId, first.Tool, first.Arguments, ready ?? toolbox.ReadyAsync(input.AccountId, first.Tool, stop), stop),
            clock, log);
        RunChange? recorded = null;
        if (await call.StartDueAsync())
        {
            recorded = Track(await call.RecordStartAsync());
            if (recorded is not { Refusal: null })
            {
                return (null, recorded);
            }
        }

        var outcome = await call.AnswerAsync();
        return (call.WithStart((state, now) =>
            RunTransitions.FinishToolCall(state, input.Attempt, input.TaskId, first.CallId, outcome.Result, outcome.Error, now)), recorded);
    }

    /// <summary>
    /// The calls as <paramref name="unrecorded"/> will record them, with their results, decided here on the run as this
    /// loop last recorded it, so the model can be given them while the change is written; null when that cannot be
    /// known, or must not be: nothing recorded by this loop yet, a call of the step still to be made, or the run's
    /// budget spent once it is recorded (<see cref="BudgetGate"/> pauses the task on the record).
    /// </summary>
    IReadOnlyList<ToolCall>? Ahead(RunDecider unrecorded, TaskRecord task, bool tools)
    {
        if (stored is null || unrecorded(stored, clock.GetUtcNow()) is not { After: { } after } decided ||
            after.Task(task.TaskId) is not { } next || next.ToolCalls.Any(c => !c.IsDone) ||
            BudgetGate.StopsTurn(after.Budget, after.Usage, after.Tasks, tools))
        {
            return null;
        }

        return next.ToolCalls.Select(c => c with
        {
            Result = decided.ToolResults.TryGetValue(c.CallId, out var result) ? result : task.ToolCalls.FirstOrDefault(k => k.CallId == c.CallId)?.Result,
        }).ToList();
    }

    /// <summary>
    /// Asks the model's next turn, given <paramref name="calls"/>, while the change that records them is written
    /// (<see cref="CallUnderway{T}"/>): its answer is acted on, and the text it writes shown, only once that change has
    /// landed as decided here. A change refused stops the turn. One that wrote nothing or landed otherwise (another
    /// execution of this activity recorded the step first, perhaps with other results), or on a run whose budget was
    /// spent meanwhile (by its other tasks), drops it: no turn; the loop goes on from the record.
    /// </summary>
    async Task<(ModelReply<AgentTurn>? Turn, RunChange? Recorded)> TurnWhileRecordingAsync(
        AgentTaskInput input, AgentTaskRequest request, IRunModel model, IReadOnlyList<ToolDefinition> offered, IReadOnlyList<ToolCall> calls,
        RunDecider unrecorded, bool tools)
    {
        var turn = new CallUnderway<ModelReply<AgentTurn>>(runs, input.AccountId, input.RunId, unrecorded,
            (output, stop) => model.TurnAsync(request with { Output = output }, offered, calls, stop), clock, log);
        var recorded = Track(await turn.RecordStartAsync());
        if (recorded is not { Refusal: null })
        {
            return (null, recorded);
        }

        var run = recorded.Run;
        if (!recorded.Decision.Writes ||
            !TaskOf(run, input.TaskId).ToolCalls.Select(c => (c.CallId, c.State)).SequenceEqual(calls.Select(c => (c.CallId, c.State))) ||
            BudgetGate.StopsTurn(run.Budget, run.Usage, run.Tasks, tools))
        {
            await turn.AbandonAsync();
            return (null, recorded);
        }

        if (request.Output is { } live)
        {
            turn.Show(live);
        }

        return (await turn.AnswerAsync(), recorded);
    }

    /// <summary>
    /// What the next step's calls most likely need, read while the model is asked: the servers of the tools the step
    /// before called (a model calling tools in a row mostly calls the same again), those a person approves left out.
    /// A read the model does not ask for is dropped.
    /// </summary>
    Dictionary<string, Task<ReadyToolCall>> ReadLikely(
        AgentTaskInput input, IReadOnlyList<ToolCall> calls, IReadOnlyList<ToolDefinition> offered, RunDefinition definition)
    {
        var last = calls.Count == 0 ? -1 : calls[^1].Step;
        return calls
            .Where(c => c.Step == last && !definition.Approves(c.Tool) && offered.Any(t => t.Name == c.Tool))
            .Select(c => c.Tool)
            .Distinct(StringComparer.Ordinal)
            .ToDictionary(tool => tool, tool => ReadAhead(input, tool), StringComparer.Ordinal);
    }

    /// <summary>Makes one recorded call and records its outcome.</summary>
    async Task<RunChange?> MakeAsync(AgentTaskInput input, ToolCall call, IReadOnlyList<ToolDefinition> tools, Task<ReadyToolCall>? readAhead)
    {
        ToolOutcome outcome;
        if (call is { Approved: true, Dispatched: true })
        {
            outcome = CutOff;
        }
        else if (Unfit(call.Tool, call.Arguments, tools) is { } unfit)
        {
            outcome = unfit;
        }
        else
        {
            // Read while an approved call's dispatch is marked, when not already read while it was asked.
            var ready = readAhead ?? ReadAhead(input, call.Tool);
            if (call.Approved)
            {
                var dispatched = await ChangeAsync(input, (state, _) => RunTransitions.DispatchToolCall(state, input.Attempt, input.TaskId, call.CallId));
                if (dispatched is not { Refusal: null })
                {
                    return dispatched;
                }

                // Marked already, by another execution of this activity: made there, or cut off; never made twice.
                if (!dispatched.Decision.Writes)
                {
                    return await ChangeAsync(input,
                        (state, now) => RunTransitions.FinishToolCall(state, input.Attempt, input.TaskId, call.CallId, CutOff.Result, CutOff.Error, now));
                }
            }

            outcome = await MadeAsync(input, call.CallId, call.Tool, call.Arguments, ready, CancellationToken.None);
        }

        return await ChangeAsync(input,
            (state, now) => RunTransitions.FinishToolCall(state, input.Attempt, input.TaskId, call.CallId, outcome.Result, outcome.Error, now));
    }

    /// <summary>What the model is told of an approved call that was marked made and has no outcome recorded.</summary>
    static readonly ToolOutcome CutOff =
        ToolOutcome.Failed("The call was cut off before its outcome was recorded; it is not made again, and whether it took effect is unknown.");

    /// <summary>The outcome of a call made.</summary>
    async Task<ToolOutcome> MadeAsync(
        AgentTaskInput input, string callId, string toolName, string arguments, Task<ReadyToolCall> ready, CancellationToken cancellationToken)
    {
        var outcome = await (await ready).MakeAsync(arguments, cancellationToken);
        if (outcome.IsError)
        {
            log.LogInformation("Run {RunId} task {TaskId}: tool call {CallId} ({Tool}) failed", input.RunId, input.TaskId, callId, toolName);
        }

        return outcome;
    }

    /// <summary>
    /// Why a call is not made, told to the model as its outcome: its tool is not offered, or the tool's schema refuses its
    /// arguments. Null when it is made.
    /// </summary>
    static ToolOutcome? Unfit(string toolName, string arguments, IReadOnlyList<ToolDefinition> tools) =>
        tools.FirstOrDefault(t => t.Name == toolName) is not { } tool
            ? ToolOutcome.Failed($"There is no tool '{toolName}' among those offered to this task ({string.Join(", ", tools.Select(t => t.Name))}).")
            : JsonInput.Check(tool.InputSchemaJson, arguments, "arguments") is { Count: > 0 } problems
                ? ToolOutcome.Failed("The arguments do not fit the tool's schema: " + string.Join(" ", problems.Select(p => $"{p.Field}: {p.Message}")))
                : null;

    /// <summary>
    /// Starts reading what a call to <paramref name="tool"/> needs: a read that may never be awaited (its call's ask or
    /// dispatch refused, or another tool asked for), so its fault is observed.
    /// </summary>
    Task<ReadyToolCall> ReadAhead(AgentTaskInput input, string tool) => toolbox.ReadyAsync(input.AccountId, tool, CancellationToken.None).Observed();

    async Task<RunChange?> ChangeAsync(AgentTaskInput input, RunDecider decide) =>
        Track(await runs.ChangeAsync(input.AccountId, input.RunId, decide, CancellationToken.None));

    /// <summary>The run as stored once this loop's last change landed: what the next one is decided on, ahead (<see cref="Ahead"/>).</summary>
    RunState? stored;

    /// <summary>Keeps the run as <paramref name="change"/> left it in storage, when it landed.</summary>
    RunChange? Track(RunChange? change)
    {
        if (change is { Refusal: null })
        {
            stored = change.Decision.After ?? change.Before;
        }

        return change;
    }

    /// <summary>A call the model asked for, recorded under an id of its own, with whether a person approves it first.</summary>
    static ToolCallAsk Ask(ModelToolCall call, IReadOnlyList<ToolDefinition> tools, RunDefinition definition) => new(
        "tc_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
        call.ModelCallId,
        call.Tool,
        call.Arguments,
        NeedsApproval: definition.Approves(call.Tool) && tools.Any(t => t.Name == call.Tool),
        tools.FirstOrDefault(t => t.Name == call.Tool)?.InputSchemaJson);

    static TaskRecord TaskOf(RunRecord run, string taskId) => ExecuteAgentTaskActivity.TaskOf(run, taskId);

    /// <summary>
    /// A change refused: the task stopped running. Its result stands if another execution of this activity got there
    /// first (the task done, or waiting on a person); otherwise the run ended or moved to another attempt.
    /// </summary>
    static AgentTaskResult Stopped(RunChange? refused, AgentTaskInput input) =>
        refused is null ? new AgentTaskResult(Recorded: false) : ExecuteAgentTaskActivity.Standing(refused.Run, refused.Task(input.TaskId), input.Attempt);
}
