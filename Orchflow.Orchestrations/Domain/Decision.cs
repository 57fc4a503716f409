namespace Orchflow.Domain;

/// <summary>
/// What <see cref="RunTransitions"/> decided about one requested change of a run: the state it leaves the run in and
/// the events that announce it, with the texts it writes; or nothing to do; or why the change is refused. The store
/// persists it as it is (guarded by the rows it was decided on, the events in the same batch) and decides nothing.
/// </summary>
public sealed record Decision
{
    /// <summary>The change asks for nothing the run does not already have: nothing is written, and the caller goes on.</summary>
    public static readonly Decision Unchanged = new();

    /// <summary>The run after the change; null when nothing is written.</summary>
    public RunState? After { get; init; }

    /// <summary>The events that announce the change, in the order they are logged.</summary>
    public IReadOnlyList<NewLogEntry> Events { get; init; } = [];

    /// <summary>Task outputs the change writes: a task id to its new output, or to null where the output goes.</summary>
    public IReadOnlyDictionary<string, string?> Outputs { get; init; } = new Dictionary<string, string?>();

    /// <summary>Tool call results the change writes: a call id to what the tool answered (null: nothing).</summary>
    public IReadOnlyDictionary<string, string?> ToolResults { get; init; } = new Dictionary<string, string?>();

    /// <summary>The final output the change writes (the run completed).</summary>
    public string? FinalOutput { get; init; }

    /// <summary>Planning notes the change adds (a plan repaired or replaced).</summary>
    public IReadOnlyList<RunEvent> Notes { get; init; } = [];

    /// <summary>Why the change was refused; null when it was not.</summary>
    public Refusal? Refusal { get; init; }

    /// <summary>Every problem of a request refused as invalid, by field, when there are several (a tool call's edited arguments).</summary>
    public IReadOnlyList<(string Field, string Message)> Problems { get; init; } = [];

    public bool IsRefused => Refusal is not null;

    public bool Writes => After is not null;

    /// <summary>
    /// This change as the announcement of <paramref name="next"/> (a task's start before its result, planning before the
    /// plan), decided on the run this one leaves, as one change: written in one batch, this one's events first. Refused
    /// when either is; nothing when <paramref name="next"/> has nothing to write (what it announces is done already).
    /// </summary>
    public Decision Then(RunState run, Func<RunState, Decision> next)
    {
        if (IsRefused)
        {
            return this;
        }

        var second = next(After ?? run);
        if (second.IsRefused || !second.Writes || !Writes)
        {
            return second;
        }

        return second with
        {
            Events = [.. Events, .. second.Events],
            Outputs = Merged(Outputs, second.Outputs),
            ToolResults = Merged(ToolResults, second.ToolResults),
            FinalOutput = second.FinalOutput ?? FinalOutput,
            Notes = [.. Notes, .. second.Notes],
        };
    }

    static Dictionary<string, string?> Merged(IReadOnlyDictionary<string, string?> first, IReadOnlyDictionary<string, string?> then)
    {
        var merged = new Dictionary<string, string?>(first);
        foreach (var (key, value) in then)
        {
            merged[key] = value;
        }

        return merged;
    }

    public static Decision Refused(RefusalKind kind, string detail, string? field = null) => new() { Refusal = new Refusal(kind, detail, field) };
}

/// <summary>Why a change of a run was refused, in terms a client or the engine acts on.</summary>
public sealed record Refusal(RefusalKind Kind, string Detail, string? Field = null);

public enum RefusalKind
{
    /// <summary>The run has no such task (the run itself is found or not by the store, which checks the owner).</summary>
    NotFound,

    /// <summary>The request does not fit the task it is for (an answer of the wrong shape): a 422 naming <see cref="Refusal.Field"/>.</summary>
    Invalid,

    /// <summary>The run or task is not in a state that allows the change (a task not waiting, a finished run): a 409.</summary>
    Conflict,

    /// <summary>The run ended, or a retry replaced the attempt that asked: the engine's request is dropped, and it stops.</summary>
    Superseded,
}
