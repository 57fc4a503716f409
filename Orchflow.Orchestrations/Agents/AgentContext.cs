using System.Globalization;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Agents;

/// <summary>
/// What one agent task sees of its run, within a character budget: every human answer whole, then the outputs of its
/// direct dependencies, trimmed fairly when they do not fit. Characters are UTF-16 code units (<see cref="string.Length"/>).
/// </summary>
/// <remarks>
/// Budget rule: human answers are never trimmed or dropped and count first; dependency outputs share what is left
/// (zero when the answers alone exceed the budget). The text kept from dependencies never exceeds that remainder; each
/// trimmed output additionally carries one omission marker of at most <see cref="MaxMarkerOverhead"/> characters, so
/// the inputs total at most <c>max(budget, human chars) + trimmed count × MaxMarkerOverhead</c>. A dependency left no
/// room is passed as its marker alone, so the model knows it exists and was cut rather than silently losing it.
/// </remarks>
public sealed record AgentContext(
    IReadOnlyList<TaskInput> Inputs,
    int BudgetChars,
    int HumanChars,
    IReadOnlyList<string> TrimmedTaskIds,
    int OmittedChars)
{
    /// <summary>Separates the kept beginning, the marker and the kept end of a trimmed output.</summary>
    const string Separator = "\n\n";

    /// <summary>The most characters one trimmed output carries beyond the text kept from it: the marker and its separators.</summary>
    public static readonly int MaxMarkerOverhead = Marker(int.MaxValue).Length + 2 * Separator.Length;

    /// <summary>True when some dependency output was cut to fit the budget.</summary>
    public bool Trimmed => TrimmedTaskIds.Count > 0;

    /// <summary>
    /// The inputs of <paramref name="task"/>: completed human answers of the run, then its completed direct agent
    /// dependencies, each group in task id order (T1, T2, … T10).
    /// </summary>
    public static AgentContext Gather(IReadOnlyList<TaskRecord> tasks, TaskRecord task, int budgetChars)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(budgetChars);

        var done = tasks.Where(t => t.State == TaskState.Completed && t.Output is not null).ToList();
        var humans = done.Where(t => t.Kind == TaskKind.Human).OrderBy(t => t.TaskId, TaskIds.Order).ToList();
        // A human task the agent depends on is already among the answers; transitive dependencies are reflected in direct ones.
        var dependencies = done
            .Where(t => t.Kind == TaskKind.Agent && t.TaskId != task.TaskId && task.DependsOn.Contains(t.TaskId))
            .OrderBy(t => t.TaskId, TaskIds.Order)
            .ToList();

        var humanChars = humans.Sum(t => t.Output!.Length);
        var shares = Shares(dependencies.Select(t => t.Output!.Length).ToList(), Math.Max(0, budgetChars - humanChars));

        var inputs = humans.Select(t => new TaskInput(t.TaskId, t.Name, t.Kind, t.Output!)).ToList();
        var trimmed = new List<string>();
        var omitted = 0;
        for (var i = 0; i < dependencies.Count; i++)
        {
            var dependency = dependencies[i];
            var output = dependency.Output!;
            if (output.Length > shares[i])
            {
                output = Fit(output, shares[i], out var cut);
                trimmed.Add(dependency.TaskId);
                omitted += cut;
            }

            inputs.Add(new TaskInput(dependency.TaskId, dependency.Name, dependency.Kind, output));
        }

        return new AgentContext(inputs, budgetChars, humanChars, trimmed, omitted);
    }

    /// <summary>
    /// Water-filling: each output gets an equal share of <paramref name="room"/>; those shorter than their share keep
    /// their full length and leave the rest to the longer ones. Shares are in the order of <paramref name="lengths"/>.
    /// </summary>
    internal static int[] Shares(IReadOnlyList<int> lengths, int room)
    {
        var shares = new int[lengths.Count];
        var shortestFirst = Enumerable.Range(0, lengths.Count).OrderBy(i => lengths[i]).ThenBy(i => i).ToList();
        var left = room;
        for (var k = 0; k < shortestFirst.Count; k++)
        {
            var waiting = shortestFirst.Count - k;
            var index = shortestFirst[k];
            if (lengths[index] <= left / waiting)
            {
                shares[index] = lengths[index];
                left -= lengths[index];
                continue;
            }

            // Everything from here on is longer than an equal share: split what is left, the odd characters to the earliest tasks.
            var rest = shortestFirst.Skip(k).Order().ToList();
            for (var j = 0; j < rest.Count; j++)
            {
                shares[rest[j]] = left / waiting + (j < left % waiting ? 1 : 0);
            }

            break;
        }

        return shares;
    }

    /// <summary>
    /// Cuts <paramref name="text"/> to at most <paramref name="room"/> characters of its own, keeping its beginning and
    /// its end (where a conclusion usually is) around an omission marker. Cuts fall on whitespace; a word longer than
    /// the room it is cut in is cut hard as a last resort, never between the halves of a surrogate pair.
    /// </summary>
    internal static string Fit(string text, int room, out int omitted)
    {
        if (text.Length <= room)
        {
            omitted = 0;
            return text;
        }

        var head = text[..HeadCut(text, room / 2)].TrimEnd();
        // Whatever the head's cut did not use goes to the end.
        var tail = text[TailCut(text, room - head.Length)..].TrimStart();
        omitted = text.Length - head.Length - tail.Length;
        return string.Join(Separator, new[] { head, Marker(omitted), tail }.Where(part => part.Length > 0));
    }

    internal static string Marker(int omitted) =>
        string.Create(CultureInfo.InvariantCulture, $"[… {omitted:N0} {(omitted == 1 ? "character" : "characters")} omitted to fit the context budget …]");

    /// <summary>
    /// The end of the kept beginning: <paramref name="room"/> moved back to the start of the word it falls in, unless
    /// that word is longer than the room, which is then cut hard.
    /// </summary>
    static int HeadCut(string text, int room)
    {
        var (start, end) = WordAround(text, room);
        if (end - start <= room)
        {
            return start;
        }

        return room > 0 && char.IsHighSurrogate(text[room - 1]) ? room - 1 : room;
    }

    /// <summary>
    /// The start of the kept end, leaving at most <paramref name="room"/> characters: moved forward to the end of the
    /// word the cut falls in, unless that word is longer than the room, which is then cut hard.
    /// </summary>
    static int TailCut(string text, int room)
    {
        var at = text.Length - room;
        var (start, end) = WordAround(text, at);
        if (end - start <= room)
        {
            return end;
        }

        return at < text.Length && char.IsLowSurrogate(text[at]) ? at + 1 : at;
    }

    /// <summary>The word a cut at <paramref name="at"/> would split; an empty span at <paramref name="at"/> when it splits none.</summary>
    static (int Start, int End) WordAround(string text, int at)
    {
        if (IsWordBoundary(text, at))
        {
            return (at, at);
        }

        var start = at;
        while (!IsWordBoundary(text, start))
        {
            start--;
        }

        var end = at;
        while (!IsWordBoundary(text, end))
        {
            end++;
        }

        return (start, end);
    }

    static bool IsWordBoundary(string text, int at) =>
        at == 0 || at == text.Length || char.IsWhiteSpace(text[at - 1]) || char.IsWhiteSpace(text[at]);
}
