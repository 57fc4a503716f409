namespace Orchflow.Domain;

/// <summary>
/// A plan to save: for which attempt and review round, what planning it cost and what it noted, and whether a person
/// reviews it before anything runs.
/// </summary>
public sealed record PlanSave(int Attempt, int Round, RunPlan Plan, TokenUsage Usage, IReadOnlyList<RunEvent> Notes, bool AwaitReview);

/// <summary>A person's verdict on the plan a run waits on: approved (with their edit, if any) or sent back with feedback.</summary>
public sealed record PlanVerdict(bool Approved, IReadOnlyList<PlannedTask>? Plan, string? Feedback);

/// <summary>
/// A person's answer to a task, as sent: <paramref name="Output"/> alone answers a human task or approves a draft with
/// an edit; <paramref name="Input"/> (a JSON object) answers a human task's form; <paramref name="Approved"/> true keeps a draft or lets a tool call be made (with edited
/// <paramref name="Arguments"/>, a JSON object, if given); false with <paramref name="Feedback"/> sends a draft back
/// or refuses the call.
/// </summary>
public sealed record HumanAnswer(bool? Approved, string? Output, string? Feedback, string? Arguments = null, string? Input = null);

/// <summary>A call the model asked for in a step of an agent task's loop, with the id it is recorded under.</summary>
public sealed record ToolCallAsk(string CallId, string ModelCallId, string Tool, string Arguments, bool NeedsApproval, string? InputSchema);

/// <summary>An agent task's result, as its activity recorded it: the output, and whether it waits for a person's approval.</summary>
public sealed record AgentResult(string Output, TokenUsage Usage, bool AwaitApproval);
