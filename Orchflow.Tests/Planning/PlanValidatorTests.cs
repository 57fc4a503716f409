using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Planning;

namespace Orchflow.Tests.Planning;

/// <summary>The rules a plan must meet before it runs, checked against invalid and adversarial plans.</summary>
[TestFixture]
public sealed class PlanValidatorTests
{
    static readonly IReadOnlyList<AgentSpec> BuiltIns = AgentCatalog.Resolve(null);

    [Test]
    public void Validate_ValidPlanWithCoveredTopics_HasNoErrors()
    {
        var tasks = new[]
        {
            Human("T1", "Provide context", "What is your brand voice and your budget?"),
            Agent("T2", "research"),
            Agent("T3", "analyst", "T2"),
            Agent("T4", "writer", "T1", "T3"),
        };

        Assert.That(Validate(tasks, askMeAbout: ["brand voice", "budget"]), Is.Empty);
    }

    [Test]
    public void Validate_NoTasks_SaysThePlanNeedsOneToTwenty()
    {
        Assert.That(Validate([]), Is.EqualTo(new[] { "The plan has 0 tasks; it must have 1 to 20." }));
    }

    [Test]
    public void Validate_TwentyOneTasks_SaysThePlanNeedsOneToTwenty()
    {
        var tasks = Enumerable.Range(1, 21).Select(i => Agent(TaskIds.Of(i), "writer")).ToArray();

        Assert.That(Validate(tasks), Is.EqualTo(new[] { "The plan has 21 tasks; it must have 1 to 20." }));
    }

    [Test]
    public void Validate_TwentyTasks_HasNoErrors()
    {
        var tasks = Enumerable.Range(1, 20).Select(i => Agent(TaskIds.Of(i), "writer", i > 1 ? [TaskIds.Of(i - 1)] : [])).ToArray();

        Assert.That(Validate(tasks), Is.Empty);
    }

    [TestCase("T1,T3")]
    [TestCase("T2,T1")]
    [TestCase("t1,t2")]
    [TestCase("1,2")]
    [TestCase("T0,T1")]
    [TestCase("T01,T02")]
    public void Validate_IdsNotT1ToTnInOrder_SaysWhichIdsAreExpected(string ids)
    {
        var tasks = ids.Split(',').Select(id => Agent(id, "writer")).ToArray();

        Assert.That(Validate(tasks), Is.EqualTo(new[] { "Task ids must be T1, T2 in that order." }));
    }

    [Test]
    public void Validate_DuplicateIds_NamesTheDuplicatedId()
    {
        var tasks = new[] { Agent("T1", "research"), Agent("T2", "research"), Agent("T2", "writer", "T1") };

        Assert.That(Validate(tasks), Is.EqualTo(new[]
        {
            "Task ids must be T1, T2, T3 in that order.",
            "T2 is the id of more than one task; each task needs its own id.",
        }));
    }

    [Test]
    public void Validate_DuplicateIdsInACycle_DoesNotThrow()
    {
        var tasks = new[] { Agent("T1", "research", "T1"), Agent("T1", "writer", "T2"), Agent("T2", "writer", "T1") };

        Assert.That(() => Validate(tasks), Throws.Nothing);
    }

    [TestCase("designer")]
    [TestCase("research ")]
    [TestCase("system")]
    public void Validate_AgentNotInTheRun_NamesTheAgentAndTheAllowedOnes(string agent)
    {
        var tasks = new[] { Agent("T1", "research"), Agent("T2", agent, "T1") };

        Assert.That(Validate(tasks), Is.EqualTo(new[]
        {
            $"T2 uses agent \"{agent}\", which this run does not have; use one of: research, analyst, writer.",
        }));
    }

    [Test]
    public void Validate_BuiltInAgentTheRunDidNotAskFor_IsRejected()
    {
        var agents = new[] { new AgentSpec("research"), new AgentSpec("Copywriter", "Write ad copy.") };
        var tasks = new[] { Agent("T1", "research"), Agent("T2", "writer", "T1") };

        Assert.That(Validate(tasks, agents: agents), Is.EqualTo(new[]
        {
            "T2 uses agent \"writer\", which this run does not have; use one of: research, Copywriter.",
        }));
    }

    [Test]
    public void Validate_CustomAgentNamedInAnotherCase_IsAccepted()
    {
        var agents = new[] { new AgentSpec("Copywriter", "Write ad copy.") };

        Assert.That(Validate([Agent("T1", "copywriter")], agents: agents), Is.Empty);
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("  ")]
    public void Validate_AgentTaskWithoutAgent_SaysItNeedsOne(string? agent)
    {
        var tasks = new[] { new PlannedTask("T1", "Write", "", TaskKind.Agent, agent, []) };

        Assert.That(Validate(tasks), Is.EqualTo(new[]
        {
            "T1 is an agent task without an agent; use one of: research, analyst, writer.",
        }));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase(" \n ")]
    public void Validate_HumanTaskWithoutPrompt_SaysItNeedsOne(string? prompt)
    {
        var tasks = new[] { new PlannedTask("T1", "Ask", "", TaskKind.Human, null, [], prompt), Agent("T2", "writer", "T1") };

        Assert.That(Validate(tasks), Is.EqualTo(new[]
        {
            "T1 is a human task without a prompt telling the person what is needed.",
        }));
    }

    [Test]
    public void Validate_DependencyOnAMissingTask_NamesTheTaskAndTheMissingId()
    {
        var tasks = new[] { Agent("T1", "research"), Agent("T2", "writer", "T1", "T7"), Agent("T3", "writer", "t1") };

        Assert.That(Validate(tasks), Is.EqualTo(new[]
        {
            "T2 depends on T7, which is not in the plan.",
            "T3 depends on t1, which is not in the plan.",
        }));
    }

    [Test]
    public void Validate_SelfDependency_SaysTheTaskDependsOnItselfOnce()
    {
        var tasks = new[] { Agent("T1", "research"), Agent("T2", "writer", "T1", "T2") };

        Assert.That(Validate(tasks), Is.EqualTo(new[] { "T2 depends on itself." }));
    }

    [Test]
    public void Validate_TwoCycle_ShowsTheCyclePath()
    {
        var tasks = new[] { Agent("T1", "research", "T2"), Agent("T2", "writer", "T1") };

        Assert.That(Validate(tasks), Is.EqualTo(new[] { "The dependencies form a cycle: T1 → T2 → T1." }));
    }

    [Test]
    public void Validate_ThreeCycleBehindAnEntryTask_ShowsOnlyTheCycle()
    {
        var tasks = new[]
        {
            Agent("T1", "research", "T2"),
            Agent("T2", "analyst", "T3"),
            Agent("T3", "analyst", "T4"),
            Agent("T4", "writer", "T2"),
        };

        Assert.That(Validate(tasks), Is.EqualTo(new[] { "The dependencies form a cycle: T2 → T3 → T4 → T2." }));
    }

    [Test]
    public void Validate_CycleWithOtherProblems_ReportsTheCycleAlongsideThem()
    {
        // The model gets one repair: hiding the cycle until the agent is fixed would waste it.
        var tasks = new[] { Agent("T1", "designer", "T3"), Agent("T2", "writer", "T1"), Agent("T3", "writer", "T2") };

        Assert.That(Validate(tasks), Is.EqualTo(new[]
        {
            "T1 uses agent \"designer\", which this run does not have; use one of: research, analyst, writer.",
            "The dependencies form a cycle: T1 → T3 → T2 → T1.",
        }));
    }

    [Test]
    public void Validate_TopicNotAskedByAnyHumanTask_NamesTheTopic()
    {
        var tasks = new[]
        {
            Human("T1", "Provide context", "What is your brand voice?"),
            Agent("T2", "writer", "T1"),
        };

        Assert.That(Validate(tasks, askMeAbout: ["brand voice", "target audience"]), Is.EqualTo(new[]
        {
            "No human task asks for \"target audience\"; add one (kind \"human\") whose prompt asks for it.",
        }));
    }

    [Test]
    public void Validate_TopicOnlyInAnAgentTask_IsNotCovered()
    {
        var tasks = new[] { new PlannedTask("T1", "Guess the budget", "Assume a budget.", TaskKind.Agent, "analyst", []) };

        Assert.That(Validate(tasks, askMeAbout: ["budget"]), Is.EqualTo(new[]
        {
            "No human task asks for \"budget\"; add one (kind \"human\") whose prompt asks for it.",
        }));
    }

    [Test]
    public void Validate_TopicAskedButASinkDoesNotDependOnIt_NamesTheSinkAndTheTopic()
    {
        var tasks = new[]
        {
            Human("T1", "Provide context", "What is your budget?"),
            Agent("T2", "research"),
            Agent("T3", "writer", "T1", "T2"),
            Agent("T4", "writer", "T2"),
        };

        Assert.That(Validate(tasks, askMeAbout: ["budget"]), Is.EqualTo(new[]
        {
            "T4 must depend (directly or through other tasks) on the human task that asks for \"budget\".",
        }));
    }

    [Test]
    public void Validate_SinkDependsOnTheHumanTaskTransitively_IsCovered()
    {
        var tasks = new[]
        {
            Agent("T1", "research"),
            Human("T2", "Provide context", "What is your budget?"),
            Agent("T3", "analyst", "T1", "T2"),
            Agent("T4", "analyst", "T3"),
            Agent("T5", "writer", "T4"),
        };

        Assert.That(Validate(tasks, askMeAbout: ["budget"]), Is.Empty);
    }

    [Test]
    public void Validate_AgentWorkEndsInAHumanReviewThatIgnoresTheAnswer_IsNotCovered()
    {
        // The last agent task is followed by a human sign-off, but nothing agents write ever used the budget.
        var tasks = new[]
        {
            Human("T1", "Provide context", "What is your budget?"),
            Agent("T2", "writer"),
            Human("T3", "Approve the draft", "Approve or correct the draft.", "T2"),
        };

        Assert.That(Validate(tasks, askMeAbout: ["budget"]), Is.EqualTo(new[]
        {
            "T2 must depend (directly or through other tasks) on the human task that asks for \"budget\".",
        }));
    }

    [TestCase("BRAND VOICE")]
    [TestCase("Brand Voice")]
    [TestCase("brand voice")]
    public void Validate_TopicMatchedInAnotherCase_IsCovered(string topic)
    {
        var tasks = new[] { Human("T1", "Provide context", "Describe your brand voice."), Agent("T2", "writer", "T1") };

        Assert.That(Validate(tasks, askMeAbout: [topic]), Is.Empty);
    }

    [Test]
    public void Validate_TopicNamedInTheHumanTasksNameOrDescription_IsCovered()
    {
        var tasks = new[]
        {
            new PlannedTask("T1", "Target audience", "", TaskKind.Human, null, [], "Who is it for?"),
            new PlannedTask("T2", "Context", "The launch date.", TaskKind.Human, null, [], "When?"),
            Agent("T3", "writer", "T1", "T2"),
        };

        Assert.That(Validate(tasks, askMeAbout: ["target audience", "launch date"]), Is.Empty);
    }

    [Test]
    public void Validate_NameAndDescriptionAtTheLimits_HasNoErrors()
    {
        var tasks = new[] { new PlannedTask("T1", new string('n', 200), new string('d', 2000), TaskKind.Agent, "writer", []) };

        Assert.That(Validate(tasks), Is.Empty);
    }

    [Test]
    public void Validate_VeryLongNameAndDescription_NamesBothLimits()
    {
        var tasks = new[] { new PlannedTask("T1", new string('n', 201), new string('d', 50_000), TaskKind.Agent, "writer", []) };

        Assert.That(Validate(tasks), Is.EqualTo(new[]
        {
            "T1: the name is 201 characters long; it must be at most 200.",
            "T1: the description is 50000 characters long; it must be at most 2000.",
        }));
    }

    [Test]
    public void Validate_ManyProblemsAtOnce_ReportsEachOne()
    {
        var tasks = new[]
        {
            new PlannedTask("T1", "Ask", "", TaskKind.Human, null, [], null),
            Agent("T2", "hacker", "T9"),
            new PlannedTask("T3", "Write", "", TaskKind.Agent, null, ["T3"]),
        };

        Assert.That(Validate(tasks, askMeAbout: ["budget"]), Is.EqualTo(new[]
        {
            "T1 is a human task without a prompt telling the person what is needed.",
            "T2 uses agent \"hacker\", which this run does not have; use one of: research, analyst, writer.",
            "T2 depends on T9, which is not in the plan.",
            "T3 is an agent task without an agent; use one of: research, analyst, writer.",
            "T3 depends on itself.",
        }));
    }

    static readonly string[] Goals =
    [
        "Plan and launch a faceless YouTube channel about AI tools for freelancers. Research 5 competing channels, extract " +
        "their content patterns, define our positioning, decide the branding direction, design a 30-day content plan, and " +
        "produce a launch checklist.",
        "Research 5 competitors, extract pricing, compare positioning, then propose our launch strategy.",
        "Write a haiku.",
        "Research the market, research pricing, research channels and research regulation.",
        string.Join(", ", Enumerable.Range(1, 30).Select(i => $"research topic {i}")) + ", then write the report.",
    ];

    static IEnumerable<TestCaseData> DeterministicCases()
    {
        string[][] agentChoices = [[], ["writer"], ["research", "writer"], ["analyst"]];
        string[][] topicChoices = [[], ["brand voice", "target audience", "content constraints"]];
        foreach (var (goal, g) in Goals.Select((goal, g) => (goal, g)))
        {
            foreach (var agents in agentChoices)
            {
                foreach (var topics in topicChoices)
                {
                    yield return new TestCaseData(goal, agents, topics)
                        .SetArgDisplayNames($"goal{g}", agents.Length == 0 ? "built-ins" : string.Join("+", agents), topics.Length == 0 ? "no-topics" : "topics");
                }
            }
        }
    }

    [TestCaseSource(nameof(DeterministicCases))]
    public void Validate_DeterministicPlannersPlan_HasNoErrors(string goal, string[] requested, string[] topics)
    {
        var agents = AgentCatalog.Resolve(requested.Select(a => new AgentSpec(a)).ToList());
        var definition = new RunDefinition(goal, agents, topics, [], false, null, null);

        var plan = DeterministicPlanner.Plan(definition, agents);

        Assert.That(PlanValidator.Validate(plan.Tasks, definition, agents), Is.Empty);
    }

    static IReadOnlyList<string> Validate(PlannedTask[] tasks, string[]? askMeAbout = null, AgentSpec[]? agents = null)
    {
        var specs = agents ?? BuiltIns.ToArray();
        var definition = new RunDefinition("Launch a product.", specs, askMeAbout ?? [], [], false, null, null);
        return PlanValidator.Validate(tasks, definition, specs);
    }

    static PlannedTask Agent(string id, string agent, params string[] dependsOn) =>
        new(id, $"Task {id}", $"Work for {id}.", TaskKind.Agent, agent, dependsOn);

    static PlannedTask Human(string id, string name, string prompt, params string[] dependsOn) =>
        new(id, name, "Context only a person can give.", TaskKind.Human, null, dependsOn, prompt);
}
