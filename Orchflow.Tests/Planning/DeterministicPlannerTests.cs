using System.Text.Json;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Planning;

namespace Orchflow.Tests.Planning;

/// <summary>The offline planner: the shape of the graphs it builds from the public docs' goals and from edge cases.</summary>
[TestFixture]
public sealed class DeterministicPlannerTests
{
    const string YouTubeGoal =
        "Plan and launch a faceless YouTube channel about AI tools for freelancers. Research 5 competing channels, extract " +
        "their content patterns, define our positioning, decide the branding direction, design a 30-day content plan, and " +
        "produce a launch checklist.";

    const string CompetitorGoal = "Research 5 competitors, extract pricing, compare positioning, then propose our launch strategy.";

    static readonly string[] YouTubeTopics = ["brand voice", "target audience", "content constraints"];

    [Test]
    public void Plan_YouTubeGoalWithAskMeAbout_StartsWithAHumanTaskAskingForEveryTopic()
    {
        var plan = Plan(YouTubeGoal, askMeAbout: YouTubeTopics);

        AssertWellFormed(plan);
        var t1 = plan.Tasks[0];
        Assert.Multiple(() =>
        {
            Assert.That(t1.TaskId, Is.EqualTo("T1"));
            Assert.That(t1.Kind, Is.EqualTo(TaskKind.Human));
            Assert.That(t1.Agent, Is.Null);
            Assert.That(t1.DependsOn, Is.Empty);
            Assert.That(t1.Prompt, Does.Contain("brand voice").And.Contain("target audience").And.Contain("content constraints"));
            Assert.That(plan.Tasks.Skip(1).Select(t => t.Kind), Is.All.EqualTo(TaskKind.Agent), "only T1 is a human task");
        });
    }

    [Test]
    public void Plan_YouTubeGoalWithAskMeAbout_EveryNonResearchTaskBuildsOnTheHumansAnswer()
    {
        var plan = Plan(YouTubeGoal, askMeAbout: YouTubeTopics);

        var nonResearch = plan.Tasks.Where(t => t.Kind == TaskKind.Agent && t.Agent != AgentCatalog.Research.Name).ToList();
        Assert.That(nonResearch, Has.Count.GreaterThanOrEqualTo(4), "positioning, branding, content plan and checklist at least");
        Assert.Multiple(() =>
        {
            foreach (var task in nonResearch)
            {
                Assert.That(Ancestors(plan, task.TaskId), Does.Contain("T1"), $"{task.TaskId} {task.Name}");
            }
        });
    }

    [Test]
    public void Plan_YouTubeGoal_GivesEachStepOfTheGoalItsOwnTaskWithEveryAgent()
    {
        var plan = Plan(YouTubeGoal, askMeAbout: YouTubeTopics);

        var names = string.Join("\n", plan.Tasks.Select(t => t.Name));
        Assert.Multiple(() =>
        {
            // The counted research step is split into one task per channel ("Research competing channel 1 of 5").
            foreach (var step in new[] { "competing channel", "content patterns", "positioning", "branding", "30-day content plan", "launch checklist" })
            {
                Assert.That(names, Does.Contain(step).IgnoreCase);
            }

            Assert.That(plan.Tasks.Select(t => t.Agent).OfType<string>().Distinct(),
                Is.EquivalentTo(new[] { AgentCatalog.Research.Name, AgentCatalog.Analyst.Name, AgentCatalog.Writer.Name }));
        });
    }

    [Test]
    public void Plan_CompetitorGoalWithCompanyDetails_ChainsResearchToTheLaunchStrategy()
    {
        var plan = Plan(CompetitorGoal, askMeAbout: ["company details"]);

        AssertWellFormed(plan);
        var agentTasks = plan.Tasks.Where(t => t.Kind == TaskKind.Agent).ToList();
        var last = plan.Tasks[^1];
        Assert.Multiple(() =>
        {
            Assert.That(plan.Tasks[0].Prompt, Does.Contain("company details"));
            Assert.That(agentTasks, Has.Count.GreaterThanOrEqualTo(4));
            Assert.That(agentTasks[0].Agent, Is.EqualTo(AgentCatalog.Research.Name));
            Assert.That(last.Name, Does.Contain("launch strategy").IgnoreCase);
            Assert.That(last.Agent, Is.EqualTo(AgentCatalog.Writer.Name));
            Assert.That(Ancestors(plan, last.TaskId), Is.EquivalentTo(plan.Tasks.SkipLast(1).Select(t => t.TaskId)),
                "the strategy builds on everything before it");
        });
    }

    [Test]
    public void Plan_CompetitorGoalWithoutAskMeAbout_HasNoHumanTask()
    {
        var plan = Plan(CompetitorGoal);

        AssertWellFormed(plan);
        Assert.That(plan.Tasks.Select(t => t.Kind), Is.All.EqualTo(TaskKind.Agent));
    }

    [Test]
    public void Plan_SeveralResearchStepsInARow_RunsThemInParallel()
    {
        var plan = Plan("Research competitors, find suppliers, gather customer reviews, then compare them and write a report.",
            askMeAbout: ["budget"]);

        AssertWellFormed(plan);
        var research = plan.Tasks.Where(t => t.Agent == AgentCatalog.Research.Name).ToList();
        var researchIds = research.Select(t => t.TaskId).ToList();
        var compare = plan.Tasks.Single(t => t.Name.StartsWith("Compare", StringComparison.Ordinal));
        Assert.Multiple(() =>
        {
            Assert.That(research, Has.Count.EqualTo(3));
            Assert.That(research.Select(t => string.Join(",", t.DependsOn)).Distinct().Count(), Is.EqualTo(1), "same dependencies");
            Assert.That(research.SelectMany(t => t.DependsOn), Has.None.AnyOf(researchIds.ToArray()), "none waits on another");
            Assert.That(compare.DependsOn, Is.SupersetOf(researchIds));
        });
    }

    [Test]
    public void Plan_YouTubeGoal_ResearchesTheFiveChannelsInParallelBranchesThatTheAnalysisWaitsFor()
    {
        var plan = Plan(YouTubeGoal, askMeAbout: YouTubeTopics);

        var channels = plan.Tasks.Where(t => t.Name.Contains("competing channel", StringComparison.OrdinalIgnoreCase)).ToList();
        var extract = plan.Tasks.Single(t => t.Name.Contains("content patterns", StringComparison.Ordinal));
        Assert.Multiple(() =>
        {
            Assert.That(channels.Select(t => t.Name), Is.EqualTo(Enumerable.Range(1, 5).Select(i => $"Research competing channel {i} of 5")));
            Assert.That(channels.Select(t => t.Agent), Is.All.EqualTo(AgentCatalog.Research.Name));
            Assert.That(channels.SelectMany(t => t.DependsOn), Is.Empty, "the branches wait on nothing, not even each other");
            Assert.That(channels.Select(t => t.Description).Distinct().Count(), Is.EqualTo(5), "each branch is told its own share");
            Assert.That(extract.DependsOn, Is.EquivalentTo(channels.Select(t => t.TaskId).Prepend("T1")));
            Assert.That(plan.Tasks.Count(t => t.Kind == TaskKind.Human), Is.EqualTo(1));
        });
    }

    [Test]
    public void Plan_YouTubeGoal_DecidesPositioningAndBrandingSideBySideFromTheSameAnalysis()
    {
        var plan = Plan(YouTubeGoal, askMeAbout: YouTubeTopics);

        var extract = Named(plan, "content patterns");
        var positioning = Named(plan, "positioning");
        var branding = Named(plan, "branding");
        var contentPlan = Named(plan, "30-day content plan");
        var checklist = Named(plan, "launch checklist");
        Assert.Multiple(() =>
        {
            Assert.That(positioning.DependsOn, Is.EqualTo(new[] { "T1", extract.TaskId }));
            Assert.That(branding.DependsOn, Is.EqualTo(new[] { "T1", extract.TaskId }));
            Assert.That(contentPlan.DependsOn, Is.EqualTo(new[] { "T1", positioning.TaskId, branding.TaskId }));
            Assert.That(checklist.DependsOn, Is.EqualTo(new[] { "T1", contentPlan.TaskId }), "writing steps stay chained");
        });
    }

    [TestCase("Research 3 competitors, then write a report.", 3)]
    [TestCase("Research three competitors, then write a report.", 3)]
    [TestCase("Research the top 4 tools for freelancers, then write a report.", 4)]
    [TestCase("Find 2 suppliers, then write a report.", 2)]
    [TestCase("Research 12 competitors, then write a report.", DeterministicPlanner.MaxBranches)]
    public void Plan_ResearchStepNamingACount_FansOutIntoThatManyBranchesAtMostFive(string goal, int branches)
    {
        var plan = Plan(goal);

        AssertWellFormed(plan);
        var research = plan.Tasks.SkipLast(1).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(research, Has.Count.EqualTo(branches));
            Assert.That(research.SelectMany(t => t.DependsOn), Is.Empty);
            Assert.That(plan.Tasks[^1].DependsOn, Is.EqualTo(research.Select(t => t.TaskId)));
        });
    }

    [Test]
    public void Plan_CountAboveFive_SplitsEveryRankIntoFiveRangesWithoutGapsOrOverlap()
    {
        var plan = Plan("Research 12 competitors in Europe, then write a report.");

        var names = plan.Tasks.SkipLast(1).Select(t => t.Name);
        Assert.That(names, Is.EqualTo(new[]
        {
            "Research competitors 1–3 of 12 in Europe", "Research competitors 4–6 of 12 in Europe", "Research competitors 7–8 of 12 in Europe",
            "Research competitors 9–10 of 12 in Europe", "Research competitors 11–12 of 12 in Europe",
        }));
    }

    [TestCase("Research competitors, then write a report.")]
    [TestCase("Research 1 competitor, then write a report.")]
    [TestCase("Research 3 competitors and 2 suppliers, then write a report.")]
    [TestCase("Research 2024 trends, then write a report.")]
    [TestCase("Compare 3 competitors, then write a report.")]
    public void Plan_StepWithoutASingleCountOfThingsToResearch_StaysOneTask(string goal)
    {
        var plan = Plan(goal);

        AssertWellFormed(plan);
        Assert.That(plan.Tasks, Has.Count.EqualTo(2));
    }

    [Test]
    public void Plan_DecisionAfterThenOrReferringBack_WaitsForTheDecisionBeforeIt()
    {
        var plan = Plan("Research competitors, decide our pricing, choose a name for it, then select a launch date, and write a report.");

        AssertWellFormed(plan);
        var pricing = Named(plan, "pricing");
        var name = Named(plan, "name for it");
        var date = Named(plan, "launch date");
        Assert.Multiple(() =>
        {
            Assert.That(name.DependsOn, Is.EqualTo(new[] { pricing.TaskId }), "refers back to the pricing");
            Assert.That(date.DependsOn, Is.EqualTo(new[] { name.TaskId }), "comes after \"then\"");
        });
    }

    [Test]
    public void Plan_ManyCountedResearchSteps_FansOutOnlyAsFarAsTwentyTasksAllow()
    {
        var plan = Plan("Research 5 apps, research 5 sites, research 5 shops, research 5 blogs, then write a report.", askMeAbout: ["budget"]);

        AssertWellFormed(plan);
        var blogs = plan.Tasks.Where(t => t.Name.Contains("blog", StringComparison.Ordinal)).Select(t => t.Name);
        Assert.Multiple(() =>
        {
            Assert.That(plan.Tasks, Has.Count.EqualTo(DeterministicPlanner.MaxTasks));
            Assert.That(blogs, Is.EqualTo(new[] { "Research blogs 1–2 of 5", "Research blogs 3–4 of 5", "Research blog 5 of 5" }),
                "the last step gets the three tasks left and still covers all five");
        });
    }

    /// <summary>The requests of the public docs, as a user would send them (agents given or defaulted).</summary>
    static IEnumerable<TestCaseData> DocsExamples()
    {
        yield return Docs("QuickStart", "Plan and launch a faceless YouTube channel about AI tools for freelancers.",
            ["research", "analyst", "writer"], ["brand voice", "target audience"]);
        yield return Docs("Runs", CompetitorGoal, null, ["company details"]);
        yield return Docs("Providers", "Research competitors and draft a launch strategy.", ["research", "writer"], ["company details"]);
        yield return Docs("Python", "Research competitors, compare pricing, then draft our launch strategy.",
            ["research", "analyst", "writer"], ["company details", "brand voice"]);
        yield return Docs("GoodFirstTask", YouTubeGoal, ["research", "analyst", "writer"], YouTubeTopics);
        yield return Docs("LongestGoal", "Research " + string.Concat(Enumerable.Repeat("the market x ", 614)).Trim(), null, ["company details"]);

        static TestCaseData Docs(string name, string goal, string[]? agents, string[] askMeAbout) =>
            new TestCaseData(goal, agents, askMeAbout).SetArgDisplayNames(name);
    }

    [TestCaseSource(nameof(DocsExamples))]
    public void Plan_PublicDocsExample_PassesThePlanValidator(string goal, string[]? agents, string[] askMeAbout)
    {
        var specs = AgentCatalog.Resolve(agents?.Select(a => new AgentSpec(a)).ToList());
        var definition = new RunDefinition(goal, specs, askMeAbout, [], false, null, null);

        var plan = DeterministicPlanner.Plan(definition, specs);

        Assert.That(PlanValidator.Validate(plan.Tasks, definition, specs), Is.Empty);
    }

    [TestCase("Research competitors and draft a launch strategy.")]
    [TestCase("Write a haiku about autumn.")]
    public void Plan_OneClauseGoal_StillYieldsSeveralTasks(string goal)
    {
        var plan = Plan(goal);

        AssertWellFormed(plan);
        Assert.That(plan.Tasks, Has.Count.GreaterThanOrEqualTo(2));
    }

    [Test]
    public void Plan_OnlyResearchAndWriterRequested_UsesNoOtherAgent()
    {
        var plan = Plan(CompetitorGoal, agents: ["research", "writer"]);

        AssertWellFormed(plan);
        Assert.Multiple(() =>
        {
            Assert.That(plan.Tasks.Select(t => t.Agent), Is.All.AnyOf("research", "writer"));
            Assert.That(plan.Tasks.Select(t => t.Agent), Does.Contain("research").And.Contain("writer"));
        });
    }

    [Test]
    public void Plan_OnlyWriterRequestedForAOneClauseGoal_GivesEveryTaskToTheWriter()
    {
        var plan = Plan("Write a haiku about autumn.", agents: ["writer"]);

        AssertWellFormed(plan);
        Assert.That(plan.Tasks.Select(t => t.Agent), Is.Not.Empty.And.All.EqualTo("writer"));
    }

    [Test]
    public void Plan_CustomAgentNamedInAStep_GetsThatStep()
    {
        var plan = Plan("Research competitors, ask the seo agent to pick keywords, then write a landing page.",
            agents: ["research", "seo", "writer"]);

        AssertWellFormed(plan);
        Assert.That(plan.Tasks.Single(t => t.Name.Contains("keywords", StringComparison.Ordinal)).Agent, Is.EqualTo("seo"));
    }

    [TestCase(0)]
    [TestCase(1)]
    public void Plan_FortySteps_IsCappedAtTwentyTasksWithoutDroppingAStep(int topics)
    {
        var goal = string.Join(", ", Enumerable.Range(1, 40).Select(i => $"step{i} topic{i}")) + ".";

        var plan = Plan(goal, askMeAbout: Enumerable.Range(1, topics).Select(i => $"fact {i}").ToArray());

        AssertWellFormed(plan);
        var descriptions = string.Join("\n", plan.Tasks.Select(t => t.Description));
        Assert.Multiple(() =>
        {
            Assert.That(plan.Tasks, Has.Count.EqualTo(DeterministicPlanner.MaxTasks));
            foreach (var i in Enumerable.Range(1, 40))
            {
                Assert.That(descriptions, Does.Contain($"step{i} topic{i}").IgnoreCase);
            }
        });
    }

    [Test]
    public void Plan_SameInputTwice_YieldsTheSamePlan()
    {
        var first = Plan(YouTubeGoal, askMeAbout: YouTubeTopics);
        var second = Plan(YouTubeGoal, askMeAbout: YouTubeTopics);

        // Records holding lists compare lists by reference, so the plans are compared as JSON.
        Assert.That(JsonSerializer.Serialize(second), Is.EqualTo(JsonSerializer.Serialize(first)));
    }

    [Test]
    public void Plan_StepLongerThanATitleWithoutSpaces_ShortensTheTitleInsteadOfThrowing()
    {
        var url = "https://example.com/" + string.Concat(Enumerable.Repeat("segment/", 20));

        var plan = Plan($"{url}, then write a summary of it.");

        AssertWellFormed(plan);
        Assert.Multiple(() =>
        {
            Assert.That(plan.Tasks[0].Name, Has.Length.LessThanOrEqualTo(121));
            Assert.That(plan.Tasks[0].Description, Does.Contain(url.TrimEnd('/')).IgnoreCase);
        });
    }

    static PlannedTask Named(RunPlan plan, string part) => plan.Tasks.Single(t => t.Name.Contains(part, StringComparison.OrdinalIgnoreCase));

    static RunPlan Plan(string goal, string[]? askMeAbout = null, string[]? agents = null)
    {
        var specs = AgentCatalog.Resolve(agents?.Select(a => new AgentSpec(a)).ToList());
        var definition = new RunDefinition(goal, specs, askMeAbout ?? [], [], false, null, null);
        return DeterministicPlanner.Plan(definition, specs);
    }

    /// <summary>Ids T1..Tn in order, at most 20 tasks, every dependency exists, no cycle, and each kind has what it needs.</summary>
    internal static void AssertWellFormed(RunPlan plan)
    {
        var ids = plan.Tasks.Select(t => t.TaskId).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(plan.Tasks, Is.Not.Empty.And.Count.LessThanOrEqualTo(DeterministicPlanner.MaxTasks));
            Assert.That(ids, Is.EqualTo(Enumerable.Range(1, ids.Count).Select(TaskIds.Of)));
            Assert.That(plan.Tasks.SelectMany(t => t.DependsOn), Is.All.AnyOf(ids.ToArray()), "every dependency exists");
            Assert.That(plan.Tasks.Where(t => t.DependsOn.Distinct().Count() != t.DependsOn.Count), Is.Empty, "no duplicate dependency");
            Assert.That(plan.Tasks.Where(t => t.Kind == TaskKind.Agent).Select(t => t.Agent), Has.None.Null);
            Assert.That(plan.Tasks.Where(t => t.Kind == TaskKind.Human).Select(t => t.Prompt), Has.None.Null.And.None.Empty);
            Assert.That(plan.Tasks.Select(t => t.Name), Has.None.Empty);
        });
        Assert.That(TopologicalOrder(plan), Has.Count.EqualTo(plan.Tasks.Count), "the graph has a cycle");
    }

    /// <summary>Kahn's algorithm: the tasks that can be ordered; fewer than all of them means a cycle.</summary>
    static List<string> TopologicalOrder(RunPlan plan)
    {
        var remaining = plan.Tasks.ToDictionary(t => t.TaskId, t => t.DependsOn.Distinct().Count());
        var order = new List<string>();
        var ready = new Queue<string>(remaining.Where(r => r.Value == 0).Select(r => r.Key));
        while (ready.TryDequeue(out var id))
        {
            order.Add(id);
            foreach (var dependant in plan.Tasks.Where(t => t.DependsOn.Contains(id)))
            {
                if (--remaining[dependant.TaskId] == 0)
                {
                    ready.Enqueue(dependant.TaskId);
                }
            }
        }

        return order;
    }

    /// <summary>Every task a task waits on, directly or not.</summary>
    static HashSet<string> Ancestors(RunPlan plan, string taskId)
    {
        var byId = plan.Tasks.ToDictionary(t => t.TaskId);
        var seen = new HashSet<string>();
        var stack = new Stack<string>(byId[taskId].DependsOn);
        while (stack.TryPop(out var id))
        {
            if (seen.Add(id) && byId.TryGetValue(id, out var task))
            {
                task.DependsOn.ToList().ForEach(stack.Push);
            }
        }

        return seen;
    }
}
