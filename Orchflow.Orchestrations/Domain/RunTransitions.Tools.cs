namespace Orchflow.Domain;

/// <summary>
/// The tool calls of an agent task's loop: asked by the model, made (their results recorded before the model sees
/// them), and, for tools a person approves, waiting for that person, who lets a call be made (as asked or edited) or
/// refuses it with a reason.
/// </summary>
public static partial class RunTransitions
{
    /// <summary>
    /// The model asked for calls in step <paramref name="step"/>: each recorded running, in the order asked, and the turn's
    /// cost added to the task's and the run's.
    /// </summary>
    public static Decision AskTools(
        RunState run, int attempt, string taskId, int step, IReadOnlyList<ToolCallAsk> asks, TokenUsage usage, DateTimeOffset now)
    {
        if ((Stale(run, attempt) ?? NotRunning(run, taskId)) is { } refused)
        {
            return refused;
        }

        var task = run.Task(taskId)!;
        if (task.ToolCalls.Any(c => c.Step >= step))
        {
            // The step was recorded by an earlier execution of the activity: it lands once.
            return Decision.Unchanged;
        }

        var asked = asks.Select(a => new ToolCall
        {
            CallId = a.CallId,
            Step = step,
            ModelCallId = a.ModelCallId,
            Tool = a.Tool,
            Arguments = a.Arguments,
            State = ToolCallState.Running,
            NeedsApproval = a.NeedsApproval,
            InputSchema = a.InputSchema,
            StartedAt = now,
        });
        var withCalls = task with { ToolCalls = [.. task.ToolCalls, .. asked], Usage = task.Usage + usage };
        return Change(run, run with { Tasks = Replace(run.Tasks, withCalls), Usage = run.Usage + usage });
    }

    /// <summary>A call whose tool a person approves waits for them, and its task with it.</summary>
    public static Decision AwaitToolApproval(RunState run, int attempt, string taskId, string callId, DateTimeOffset now)
    {
        if ((Stale(run, attempt) ?? NotRunning(run, taskId)) is { } refused)
        {
            return refused;
        }

        var task = run.Task(taskId)!;
        if (task.ToolCalls.FirstOrDefault(c => c.CallId == callId) is not { State: ToolCallState.Running, NeedsApproval: true, Approved: false } call)
        {
            return Decision.Refused(RefusalKind.Conflict, $"Tool call {callId} of task {taskId} is not one to approve now.");
        }

        var waiting = task with
        {
            State = TaskState.WaitingHuman,
            WaitingSince = now,
            ToolCalls = ReplaceCall(task, call with { State = ToolCallState.WaitingHuman }),
        };
        return Change(run, run with { Tasks = Replace(run.Tasks, waiting) });
    }

    /// <summary>
    /// An approved call is about to be made: marked so, so that should the worker stop before its result is recorded,
    /// it is never made a second time.
    /// </summary>
    public static Decision DispatchToolCall(RunState run, int attempt, string taskId, string callId)
    {
        if ((Stale(run, attempt) ?? NotRunning(run, taskId)) is { } refused)
        {
            return refused;
        }

        var task = run.Task(taskId)!;
        return task.ToolCalls.FirstOrDefault(c => c.CallId == callId) is { State: ToolCallState.Running, Dispatched: false } call
            ? Change(run, run with { Tasks = Replace(run.Tasks, task with { ToolCalls = ReplaceCall(task, call with { Dispatched = true }) }) })
            : Decision.Unchanged;
    }

    /// <summary>A call's outcome is recorded, before the model is given it: its result, or why it failed.</summary>
    public static Decision FinishToolCall(RunState run, int attempt, string taskId, string callId, string? result, string? error, DateTimeOffset now)
    {
        if ((Stale(run, attempt) ?? NotRunning(run, taskId)) is { } refused)
        {
            return refused;
        }

        var task = run.Task(taskId)!;
        if (task.ToolCalls.FirstOrDefault(c => c.CallId == callId) is not { State: ToolCallState.Running } call)
        {
            // Recorded by an earlier execution of the activity: a call's outcome lands once.
            return Decision.Unchanged;
        }

        var done = call with { State = error is null ? ToolCallState.Completed : ToolCallState.Failed, Error = error, CompletedAt = now };
        var after = run with { Tasks = Replace(run.Tasks, task with { ToolCalls = ReplaceCall(task, done) }) };
        return Change(run, after) with { ToolResults = new Dictionary<string, string?> { [callId] = result } };
    }

    /// <summary>
    /// A person's answer to the call a task waits on: approved, it is made as asked or with their edited arguments
    /// (checked against the tool's schema); refused, it is not made and the model is told why. Either way the task's
    /// loop goes on.
    /// </summary>
    static Decision AnswerToolCall(RunState run, TaskRecord task, ToolCall call, HumanAnswer answer, DateTimeOffset now)
    {
        if (UnfitForCall(call, answer) is { } unfit)
        {
            return unfit;
        }

        var answered = answer.Approved == true
            ? call with { State = ToolCallState.Running, Approved = true, Arguments = answer.Arguments ?? call.Arguments }
            : call with { State = ToolCallState.Rejected, Feedback = answer.Feedback, CompletedAt = now };
        var resumed = task with { State = TaskState.Running, ToolCalls = ReplaceCall(task, answered) };
        return Change(run, run with { Tasks = Replace(run.Tasks, resumed) });
    }

    /// <summary>
    /// Takes back a verdict on a tool call the run never heard (its event could not be raised): the call and its task
    /// wait again. Changes nothing once the task's loop has moved past that verdict.
    /// </summary>
    public static Decision ReopenToolCall(RunState run, string taskId, ToolCall answered)
    {
        var task = run.Task(taskId);
        if (task is not { State: TaskState.Running } || run.Status.IsTerminal() ||
            task.ToolCalls.FirstOrDefault(c => c.CallId == answered.CallId) is not { } call || call != answered || call.Dispatched ||
            task.ToolCalls[^1].Step != call.Step)
        {
            return Decision.Unchanged;
        }

        var waiting = call with { State = ToolCallState.WaitingHuman, Approved = false, Feedback = null, CompletedAt = null };
        return Change(run, run with { Tasks = Replace(run.Tasks, task with { State = TaskState.WaitingHuman, ToolCalls = ReplaceCall(task, waiting) }) });
    }

    static Decision? UnfitForCall(ToolCall call, HumanAnswer answer)
    {
        switch (answer)
        {
            case { Input: not null }:
                return Decision.Refused(RefusalKind.Invalid,
                    $"Task waits on tool call {call.CallId} ({call.Tool}): 'input' answers a human task's form; send a verdict on the call instead.",
                    FormAnswers.Field);
            case { Output: not null }:
                return Decision.Refused(RefusalKind.Invalid,
                    $"Task waits on tool call {call.CallId} ({call.Tool}): send {{\"approved\": true}}, edited \"arguments\", or {{\"approved\": false, \"feedback\": \"…\"}}, not 'output'.",
                    "output");
            case { Approved: false, Feedback: null }:
                return Decision.Refused(RefusalKind.Invalid, "Refusing a tool call needs 'feedback': why, which the agent is told.", "feedback");
            case { Approved: false, Arguments: not null }:
                return Decision.Refused(RefusalKind.Invalid, "Send edited 'arguments' with 'approved': true; with 'approved': false send 'feedback' only.",
                    "arguments");
            case { Approved: null }:
                return Decision.Refused(RefusalKind.Invalid,
                    "Send {\"approved\": true} (with edited \"arguments\" if you like) or {\"approved\": false, \"feedback\": \"…\"}.", "approved");
        }

        return Problems(answer.Arguments is { } edited ? JsonInput.Check(call.InputSchema, edited, "arguments") : []);
    }

    static Decision? NotRunning(RunState run, string taskId) =>
        run.Task(taskId) is { State: TaskState.Running }
            ? null
            : Decision.Refused(RefusalKind.Conflict, $"Task {taskId} is no longer running.");

    static List<ToolCall> ReplaceCall(TaskRecord task, ToolCall changed) =>
        task.ToolCalls.Select(c => c.CallId == changed.CallId ? changed : c).ToList();
}
