using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Orchflow.Agents;
using Orchflow.Domain;

namespace Orchflow.Tests.Agents;

/// <summary>What one agent task sees of its run: human answers whole, direct dependencies fitted to the budget.</summary>
[TestFixture]
public sealed class AgentContextTests
{
    static readonly string[] Vocabulary =
        ["market", "pricing", "a", "competitor", "channel", "of", "launch", "retention", "we", "subscription", "to", "audience"];

    /// <summary>The longest word <see cref="Words"/> writes ("subscription").</summary>
    const int LongestWord = 12;

    /// <summary>A trimmed output: its kept beginning, the marker's count, its kept end.</summary>
    static readonly Regex TrimmedShape = new(
        @"\A(?:(?<head>.*?)\n\n)?\[… (?<omitted>[\d,]+) characters? omitted to fit the context budget …\](?:\n\n(?<tail>.*))?\z",
        RegexOptions.Singleline);

    [Test]
    public void Gather_UnderBudget_PassesEveryInputWhole()
    {
        var tasks = new[]
        {
            Human("T1", "Company: Acme.\nVoice: direct."),
            Agent("T2", Words(200)),
            Agent("T3", Words(300), "T2"),
            Agent("T4", null, "T2", "T3"),
        };

        var seen = AgentContext.Gather(tasks, tasks[3], 24_000);

        Assert.Multiple(() =>
        {
            Assert.That(seen.Inputs.Select(i => (i.TaskId, i.Output)), Is.EqualTo(new[]
            {
                ("T1", tasks[0].Output), ("T2", tasks[1].Output), ("T3", tasks[2].Output),
            }));
            Assert.That(seen.Trimmed, Is.False);
            Assert.That(seen.OmittedChars, Is.Zero);
            Assert.That(seen.HumanChars, Is.EqualTo(tasks[0].Output!.Length));
        });
    }

    [Test]
    public void Gather_ExactlyAtBudget_PassesEveryInputWhole()
    {
        var tasks = new[] { Human("T1", Words(50)), Agent("T2", Words(400)), Agent("T3", null, "T2") };
        var budget = tasks[0].Output!.Length + tasks[1].Output!.Length;

        var seen = AgentContext.Gather(tasks, tasks[2], budget);

        Assert.Multiple(() =>
        {
            Assert.That(seen.Trimmed, Is.False);
            Assert.That(seen.Inputs[1].Output, Is.EqualTo(tasks[1].Output));
        });
    }

    [Test]
    public void Gather_OverBudget_KeepsHumanAnswersWholeAndFitsDependenciesWithinTheRest()
    {
        var tasks = new[]
        {
            Human("T1", Words(150)),
            Agent("T2", Words(900)),
            Human("T3", Words(60)),
            Agent("T4", Words(1200), "T2"),
            Agent("T5", null, "T2", "T4"),
        };
        const int budget = 4_000;

        var seen = AgentContext.Gather(tasks, tasks[4], budget);

        var humanChars = tasks[0].Output!.Length + tasks[2].Output!.Length;
        var room = budget - humanChars;
        var kept = KeptChars(seen, tasks);
        Assert.Multiple(() =>
        {
            Assert.That(seen.Inputs[0].Output, Is.EqualTo(tasks[0].Output));
            Assert.That(seen.Inputs[1].Output, Is.EqualTo(tasks[2].Output));
            Assert.That(seen.HumanChars, Is.EqualTo(humanChars));
            Assert.That(seen.TrimmedTaskIds, Is.EqualTo(new[] { "T2", "T4" }));
            Assert.That(kept, Is.LessThanOrEqualTo(room), "text kept from dependencies fits what the answers leave");
            Assert.That(kept, Is.GreaterThanOrEqualTo(room - 2 * 2 * (LongestWord + 1)), "the room is used, up to a word per cut");
            Assert.That(seen.OmittedChars, Is.EqualTo(tasks[1].Output!.Length + tasks[3].Output!.Length - kept));
            Assert.That(TotalChars(seen), Is.LessThanOrEqualTo(budget + 2 * AgentContext.MaxMarkerOverhead));
        });
        AssertCut(tasks[1].Output!, seen.Inputs[2].Output);
        AssertCut(tasks[3].Output!, seen.Inputs[3].Output);
    }

    [Test]
    public void Gather_OneShortDependency_KeepsItWholeAndGivesItsShareToTheLongerOnes()
    {
        var tasks = new[]
        {
            Agent("T1", Words(2_000)),
            Agent("T2", Words(60)),
            Agent("T3", Words(2_000)),
            Agent("T4", null, "T1", "T2", "T3"),
        };
        const int budget = 3_000;

        var seen = AgentContext.Gather(tasks, tasks[3], budget);

        var shortChars = tasks[1].Output!.Length;
        Assert.That(shortChars, Is.LessThan(budget / 3), "the short one fits an equal share");
        var share = (budget - shortChars + 1) / 2;
        var firstKept = Kept(tasks[0].Output!, seen.Inputs[0].Output);
        var thirdKept = Kept(tasks[2].Output!, seen.Inputs[2].Output);
        Assert.Multiple(() =>
        {
            Assert.That(seen.Inputs[1].Output, Is.EqualTo(tasks[1].Output));
            Assert.That(seen.TrimmedTaskIds, Is.EqualTo(new[] { "T1", "T3" }));
            Assert.That(firstKept, Is.LessThanOrEqualTo(share).And.GreaterThan(budget / 3), "gets part of the short one's unused share");
            Assert.That(thirdKept, Is.LessThanOrEqualTo(share).And.GreaterThan(budget / 3));
            Assert.That(firstKept + thirdKept + shortChars, Is.LessThanOrEqualTo(budget));
        });
    }

    [TestCase(new[] { 500, 10_000, 10_000 }, 3_000, new[] { 500, 1_250, 1_250 })]
    [TestCase(new[] { 4, 4, 4 }, 10, new[] { 4, 3, 3 })]
    [TestCase(new[] { 9_000, 100, 50 }, 1_000, new[] { 850, 100, 50 })]
    [TestCase(new[] { 1, 2 }, 100, new[] { 1, 2 })]
    [TestCase(new[] { 5, 5 }, 0, new[] { 0, 0 })]
    [TestCase(new int[0], 100, new int[0])]
    public void Shares_Lengths_AreWaterFilled(int[] lengths, int room, int[] expected)
    {
        Assert.That(AgentContext.Shares(lengths, room), Is.EqualTo(expected));
    }

    [Test]
    public void Fit_LongOutput_KeepsItsBeginningAndItsConclusion()
    {
        var text = Words(2_000, begin: "Goal restated: find five competitors.", end: "Decision: launch on the annual plan.");

        var fitted = AgentContext.Fit(text, 400, out var omitted);

        Assert.Multiple(() =>
        {
            Assert.That(fitted, Does.StartWith("Goal restated: find five competitors."));
            Assert.That(fitted, Does.EndWith("Decision: launch on the annual plan."));
            Assert.That(fitted, Does.Contain(AgentContext.Marker(omitted)));
            Assert.That(omitted, Is.EqualTo(text.Length - Kept(text, fitted)));
        });
        AssertCut(text, fitted);
    }

    [Test]
    public void Fit_AnyRoomLargerThanTwoWords_CutsOnlyAtWhitespace(
        [Values(28, 29, 30, 57, 100, 101, 333, 1_000, 4_999)] int room)
    {
        var text = Words(1_500);

        var fitted = AgentContext.Fit(text, room, out _);

        var cut = AssertCut(text, fitted);
        Assert.That(cut.Head.Length + cut.Tail.Length, Is.LessThanOrEqualTo(room).And.GreaterThanOrEqualTo(room - (LongestWord + 1)),
            "only the word at the end's cut is lost: the room the beginning's cut leaves goes to the end");
    }

    [Test]
    public void Fit_WordLongerThanTheRoom_CutsItHard()
    {
        var text = "Token: " + new string('x', 500) + " end";

        var fitted = AgentContext.Fit(text, 100, out var omitted);

        var cut = Parse(fitted);
        Assert.Multiple(() =>
        {
            Assert.That(cut.Head, Is.EqualTo("Token: " + new string('x', 43)), "no boundary after the first word within 50 characters");
            Assert.That(cut.Tail, Is.EqualTo(new string('x', 46) + " end"), "the end gets what the beginning did not use");
            Assert.That(omitted, Is.EqualTo(text.Length - 100));
        });
    }

    [Test]
    public void Fit_SurrogatePairsAnywhere_NeverSplitsAPair([Range(0, 41)] int room)
    {
        var words = "😀🎉👩‍💻 naïve 𝄞𝄞𝄞𝄞 café 🎉 " + new string('x', 3) + " 😀😀😀😀😀😀😀😀😀😀😀";
        var unbroken = string.Concat(Enumerable.Repeat("😀", 40));

        var fittedWords = AgentContext.Fit(words + " " + words, room, out _);
        var fittedRun = AgentContext.Fit(unbroken, room, out var omittedRun);

        Assert.Multiple(() =>
        {
            Assert.That(HasLoneSurrogate(fittedWords), Is.False, fittedWords);
            Assert.That(HasLoneSurrogate(fittedRun), Is.False, fittedRun);
            Assert.That(unbroken.Length - omittedRun, Is.LessThanOrEqualTo(room));
        });
    }

    [Test]
    public void Gather_HumanAnswersAloneOverBudget_PassesAllAnswersWholeAndDependenciesAsMarkersOnly()
    {
        var tasks = new[]
        {
            Human("T1", Words(400)),
            Human("T2", Words(500)),
            Agent("T3", Words(300)),
            Agent("T4", Words(10)),
            Agent("T5", null, "T3", "T4"),
        };
        const int budget = 3_000;
        Assert.That(tasks[0].Output!.Length + tasks[1].Output!.Length, Is.GreaterThan(budget));

        var seen = AgentContext.Gather(tasks, tasks[4], budget);

        Assert.Multiple(() =>
        {
            Assert.That(seen.Inputs.Select(i => i.Output), Is.EqualTo(new[]
            {
                tasks[0].Output,
                tasks[1].Output,
                AgentContext.Marker(tasks[2].Output!.Length),
                AgentContext.Marker(tasks[3].Output!.Length),
            }));
            Assert.That(seen.TrimmedTaskIds, Is.EqualTo(new[] { "T3", "T4" }));
            Assert.That(seen.OmittedChars, Is.EqualTo(tasks[2].Output!.Length + tasks[3].Output!.Length));
            Assert.That(seen.HumanChars, Is.GreaterThan(seen.BudgetChars));
        });
    }

    [Test]
    public void Gather_AgentOutputsTheTaskDoesNotDirectlyDependOn_AreExcluded()
    {
        var tasks = new[]
        {
            Agent("T1", "Transitive research."),
            Agent("T2", "Direct analysis.", "T1"),
            Agent("T3", "Unrelated branch."),
            Human("T4", "Human answer."),
            Agent("T5", null, "T2", "T6"),
            Agent("T6", null),
            new TaskRecord { TaskId = "T7", Name = "Still waiting", Kind = TaskKind.Human, State = TaskState.WaitingHuman, Prompt = "?" },
        };

        var seen = AgentContext.Gather(tasks, tasks[4], 24_000);

        Assert.That(seen.Inputs.Select(i => i.TaskId), Is.EqualTo(new[] { "T4", "T2" }));
    }

    [Test]
    public void Gather_TasksInAnyOrder_PutsHumanAnswersThenDependenciesEachInNumericIdOrder()
    {
        var current = Agent("T12", null, "T11", "T3", "T1", "T9", "T3");
        TaskRecord[] tasks =
        [
            Human("T10", "ten"), Agent("T11", "eleven"), Human("T2", "two"), Agent("T3", "three"),
            Human("T9", "nine"), Agent("T1", "one"), current,
        ];

        var forward = AgentContext.Gather(tasks, current, 24_000);
        var backward = AgentContext.Gather(Enumerable.Reverse(tasks).ToList(), current, 24_000);

        Assert.Multiple(() =>
        {
            Assert.That(forward.Inputs.Select(i => i.TaskId), Is.EqualTo(new[] { "T2", "T9", "T10", "T1", "T3", "T11" }),
                "a human task that is also a dependency appears once, among the answers");
            Assert.That(backward.Inputs, Is.EqualTo(forward.Inputs));
        });
    }

    [Test]
    public void Gather_ManyShapesOfRun_StaysWithinTheBudgetPlusOneMarkerPerTrimmedOutput([Range(1, 40)] int seed)
    {
        var random = new Random(seed);
        var tasks = new List<TaskRecord>();
        for (var i = 0; i < random.Next(0, 4); i++)
        {
            tasks.Add(Human(TaskIds.Of(tasks.Count + 1), Words(random.Next(0, 600))));
        }

        var dependencies = new List<string>();
        for (var i = 0; i < random.Next(0, 6); i++)
        {
            var id = TaskIds.Of(tasks.Count + 1);
            tasks.Add(Agent(id, Words(random.Next(0, 3_000))));
            dependencies.Add(id);
        }

        var current = Agent(TaskIds.Of(tasks.Count + 1), null, [.. dependencies]);
        tasks.Add(current);
        var budget = random.Next(0, 30_000);

        var seen = AgentContext.Gather(tasks, current, budget);

        var humanChars = tasks.Where(t => t.Kind == TaskKind.Human).Sum(t => t.Output!.Length);
        var room = Math.Max(0, budget - humanChars);
        var kept = KeptChars(seen, tasks);
        var dependencyChars = tasks.Where(t => dependencies.Contains(t.TaskId)).Sum(t => t.Output!.Length);
        Assert.Multiple(() =>
        {
            Assert.That(TotalChars(seen),
                Is.LessThanOrEqualTo(Math.Max(budget, humanChars) + seen.TrimmedTaskIds.Count * AgentContext.MaxMarkerOverhead));
            Assert.That(kept, Is.LessThanOrEqualTo(room));
            Assert.That(kept, Is.EqualTo(dependencyChars - seen.OmittedChars));
            Assert.That(seen.Inputs.Count, Is.EqualTo(tasks.Count(t => t.Kind == TaskKind.Human) + dependencies.Count), "nothing dropped");
            Assert.That(seen.Trimmed, Is.EqualTo(humanChars + dependencyChars > budget && dependencyChars > 0));
        });
        foreach (var input in seen.Inputs.Where(i => seen.TrimmedTaskIds.Contains(i.TaskId)))
        {
            var original = tasks.Single(t => t.TaskId == input.TaskId).Output!;
            if (Kept(original, input.Output) > 2 * (LongestWord + 1))
            {
                AssertCut(original, input.Output);
            }
        }
    }

    [Test]
    public void Gather_NegativeBudget_Throws()
    {
        var current = Agent("T1", null);

        Assert.Throws<ArgumentOutOfRangeException>(() => AgentContext.Gather([current], current, -1));
    }

    [Test]
    [SetCulture("de-DE")]
    public void Marker_AnyCurrentCulture_SaysHowManyCharactersWereOmittedInInvariantFormat()
    {
        Assert.Multiple(() =>
        {
            Assert.That(AgentContext.Marker(12_345), Is.EqualTo("[… 12,345 characters omitted to fit the context budget …]"));
            Assert.That(AgentContext.Marker(1), Is.EqualTo("[… 1 character omitted to fit the context budget …]"));
        });
    }

    static TaskRecord Human(string id, string answer) => new()
    {
        TaskId = id, Name = $"Answer {id}", Kind = TaskKind.Human, State = TaskState.Completed, Output = answer, Prompt = "?",
    };

    /// <summary>An agent task: completed with <paramref name="output"/>, or still running without one.</summary>
    static TaskRecord Agent(string id, string? output, params string[] dependsOn) => new()
    {
        TaskId = id,
        Name = $"Work {id}",
        Kind = TaskKind.Agent,
        Agent = "analyst",
        State = output is null ? TaskState.Running : TaskState.Completed,
        Output = output,
        DependsOn = dependsOn,
    };

    /// <summary>Deterministic prose of <paramref name="count"/> words between a first and a last sentence.</summary>
    static string Words(int count, string begin = "Summary:", string end = "Decision: ship it.")
    {
        var text = new StringBuilder(begin);
        for (var i = 0; i < count; i++)
        {
            text.Append(i % 12 == 11 ? '\n' : ' ').Append(Vocabulary[(i * 7 + count) % Vocabulary.Length]);
        }

        return text.Append(' ').Append(end).ToString();
    }

    sealed record Cut(string Head, int Omitted, string Tail);

    static Cut Parse(string fitted)
    {
        var match = TrimmedShape.Match(fitted);
        Assert.That(match.Success, Is.True, $"not a trimmed output: {fitted}");
        return new Cut(
            match.Groups["head"].Value,
            int.Parse(match.Groups["omitted"].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture),
            match.Groups["tail"].Value);
    }

    /// <summary>The fitted text is the original's beginning and end around an honest marker, cut between words.</summary>
    static Cut AssertCut(string original, string fitted)
    {
        var cut = Parse(fitted);
        var tailStart = original.Length - cut.Tail.Length;
        Assert.Multiple(() =>
        {
            Assert.That(original.StartsWith(cut.Head, StringComparison.Ordinal), Is.True, "keeps the beginning");
            Assert.That(original.EndsWith(cut.Tail, StringComparison.Ordinal), Is.True, "keeps the end");
            Assert.That(cut.Omitted, Is.EqualTo(original.Length - cut.Head.Length - cut.Tail.Length), "the marker counts what is missing");
            Assert.That(cut.Head.Length == 0 || char.IsWhiteSpace(original[cut.Head.Length]), Is.True,
                $"the beginning ends before whitespace: …{cut.Head[^Math.Min(10, cut.Head.Length)..]}|{original[cut.Head.Length]}");
            Assert.That(cut.Head.Length == 0 || !char.IsWhiteSpace(cut.Head[^1]), Is.True, "the beginning ends on a word");
            Assert.That(cut.Tail.Length == 0 || char.IsWhiteSpace(original[tailStart - 1]), Is.True,
                $"the end starts after whitespace: {original[tailStart - 1]}|{cut.Tail[..Math.Min(10, cut.Tail.Length)]}…");
            Assert.That(cut.Tail.Length == 0 || !char.IsWhiteSpace(cut.Tail[0]), Is.True, "the end starts on a word");
        });
        return cut;
    }

    /// <summary>Characters of the original a passed input keeps: all of it when whole, its two ends when trimmed.</summary>
    static int Kept(string original, string passed)
    {
        if (passed == original)
        {
            return original.Length;
        }

        var cut = Parse(passed);
        return cut.Head.Length + cut.Tail.Length;
    }

    static int KeptChars(AgentContext seen, IReadOnlyList<TaskRecord> tasks) =>
        seen.Inputs.Where(i => i.Kind == TaskKind.Agent).Sum(i => Kept(tasks.Single(t => t.TaskId == i.TaskId).Output!, i.Output));

    static int TotalChars(AgentContext seen) => seen.Inputs.Sum(i => i.Output.Length);

    static bool HasLoneSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && (i + 1 == text.Length || !char.IsLowSurrogate(text[i + 1])))
            {
                return true;
            }

            if (char.IsLowSurrogate(text[i]) && (i == 0 || !char.IsHighSurrogate(text[i - 1])))
            {
                return true;
            }
        }

        return false;
    }
}
