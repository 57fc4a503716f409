using Orchflow.Activities;
using Orchflow.Domain;
using Orchflow.Orchestrators;

namespace Orchflow.Tests.Orchestrators;

/// <summary>What the fake does for a task's tool calls a person approves, and for a run's spent budget.</summary>
public sealed partial class FakeRun
{
    /// <summary>
    /// The agent's loop asks a call of a tool a person approves: recorded, the task waits on it, and the activity reports
    /// back saying so. Returns the call's id.
    /// </summary>
    public string AskApprovedTool(string taskId)
    {
        var call = PendingAgent(taskId);
        var step = State.Task(taskId)!.ToolCalls.Count + 1;
        var callId = $"tc_{taskId}_{step}";
        var ask = new ToolCallAsk(callId, "m1", "send_email", "{\"to\":\"a@example.com\"}", NeedsApproval: true, "{\"type\":\"object\"}");
        var waits = !Write(RunTransitions.AskTools(State, call.Input.Attempt, taskId, step, [ask], AgentUsage, WriteTime)).IsRefused &&
                    !Write(RunTransitions.AwaitToolApproval(State, call.Input.Attempt, taskId, callId, WriteTime)).IsRefused;
        Journal.Add($"done {taskId} (waits on {callId})");
        call.Done.SetResult(waits ? new AgentTaskResult(Recorded: true, WaitingCall: callId, Version: Reported) : new AgentTaskResult(Recorded: false));
        return callId;
    }

    /// <summary>A person lets the call a task waits on be made, or refuses it, as the HTTP handler takes it. Returns whether it landed.</summary>
    public bool AnswerToolCall(string taskId, bool approve)
    {
        var callId = State.Task(taskId)?.PendingToolCall?.CallId;
        var answer = approve ? new HumanAnswer(true, null, null) : new HumanAnswer(false, null, "Do not send it.");
        if (callId is null || Write(RunTransitions.Answer(State, taskId, answer, WriteTime)).IsRefused)
        {
            return false;
        }

        Raise(RunEvents.ToolApproval(taskId, callId), new HumanReply(approve ? HumanDecision.Accepted : HumanDecision.Rejected, Reported));
        return true;
    }

    /// <summary>
    /// The run's budget is spent (its limit is what the run has used): the agent activity of <paramref name="taskId"/>
    /// (or, with null, the synthesis) makes no call, pauses its task and reports back.
    /// </summary>
    public void PauseOnBudget(string? taskId)
    {
        State = State with { Budget = new RunBudget(MaxTokens: State.Usage.InputTokens + State.Usage.OutputTokens) };
        var attempt = input!.Attempt;
        var paused = Write(RunTransitions.PauseForBudget(State, attempt, taskId, BudgetPart.Tokens));
        var round = paused.IsRefused ? (int?)null : State.BudgetRound;
        if (taskId is null)
        {
            synthesis.SetResult(new SynthesisResult(false, round));
            return;
        }

        Journal.Add($"done {taskId} (paused on the budget)");
        PendingAgent(taskId).Done.SetResult(round is null ? new AgentTaskResult(Recorded: false) : new AgentTaskResult(Recorded: true, PausedOnBudget: round, Version: Reported));
    }

    /// <summary>A person raises the run's budget, as the HTTP handler takes it: the run goes on, and the event is raised when it waited.</summary>
    public bool RaiseBudget()
    {
        var before = State;
        if (Write(RunTransitions.RaiseBudget(State, new RunBudget(MaxTokens: 1_000_000))).IsRefused)
        {
            return false;
        }

        if (before.AwaitingBudget && !State.AwaitingBudget)
        {
            Raise(RunEvents.Budget(before.BudgetRound), new HumanReply(HumanDecision.Accepted, Reported));
        }

        return true;
    }
}
