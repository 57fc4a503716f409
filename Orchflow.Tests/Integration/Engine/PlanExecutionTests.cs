using System.Net;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Engine;

/// <summary>
/// Plans carried out as planned, over real HTTP on the standalone host: parallel branches really overlap, and a
/// run pauses exactly where a human must answer. Each simulated model call takes 300 ms here, so overlaps and
/// waits are wide enough to be seen by polling.
/// </summary>
[TestFixture]
public sealed class PlanExecutionTests : HostedTests
{
    protected override IReadOnlyDictionary<string, string> HostSettings => PacedHost.Settings;

    /// <summary>The public docs' "good first task", verbatim.</summary>
    static readonly object YouTubeRequest = new
    {
        task = "Plan and launch a faceless YouTube channel about AI tools for freelancers. Research 5 competing channels, " +
               "extract their content patterns, define our positioning, decide the branding direction, design a 30-day " +
               "content plan, and produce a launch checklist.",
        agents = new[] { new { name = "research" }, new { name = "analyst" }, new { name = "writer" } },
        ask_me_about = new[] { "brand voice", "target audience", "content constraints" },
        require_approval = false,
    };

    static readonly string[] YouTubeTopics = ["brand voice", "target audience", "content constraints"];

    [Test]
    public async Task StartRun_DocsYouTubeRequest_PlansOneHumanTaskAndParallelResearchThatRunsWhileT1Waits()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(YouTubeRequest)).Str("run_id");
        var researchRanWhileT1Waited = false;

        // Before the answer: the run can only come to rest waiting on T1, after the research it could do without it.
        var waiting = await client.WaitForRunAsync(runId, run =>
        {
            var tasks = RunGraph.Tasks(run);
            researchRanWhileT1Waited |= tasks.Count > 0 && RunGraph.State(tasks[0]) == "waiting_human" &&
                                        RunGraph.ForAgent(run, "research").Any(t => RunGraph.State(t) == "running");
            return run.Str("status") == "waiting_human";
        });

        var humans = RunGraph.OfKind(waiting, "human");
        var research = RunGraph.ForAgent(waiting, "research");
        var plan = RunGraph.Describe(waiting);
        Assert.Multiple(() =>
        {
            Assert.That(humans.Select(RunGraph.Id), Is.EqualTo(new[] { "T1" }), plan);
            Assert.That(humans[0]["agent"], Is.Null, plan);
            foreach (var topic in YouTubeTopics)
            {
                Assert.That(humans[0].Str("prompt"), Does.Contain(topic).IgnoreCase, "T1 must ask for every ask_me_about topic.");
            }

            Assert.That(research, Has.Count.GreaterThanOrEqualTo(2), "The competing channels should be researched as parallel branches.\n" + plan);
            foreach (var task in research)
            {
                var ancestors = RunGraph.Ancestors(waiting, RunGraph.Id(task));
                Assert.That(research.Select(RunGraph.Id).Intersect(ancestors), Is.Empty, $"{RunGraph.Id(task)} waits for another research branch.\n{plan}");
            }

            Assert.That(RunGraph.WaitingOn(waiting), Is.EqualTo(new[] { "T1" }), plan);
            Assert.That(research.Select(RunGraph.State), Is.All.EqualTo("completed"), plan);
            Assert.That(researchRanWhileT1Waited, Is.True, "No poll saw a research branch running while T1 waited.\n" + plan);
        });

        // The branches overlap: every one started before any of them finished.
        var lastStart = research.Max(t => RunGraph.Time(t, "started_at"));
        var firstEnd = research.Min(t => RunGraph.Time(t, "completed_at"));
        Assert.That(lastStart, Is.LessThan(firstEnd), "The research branches ran one after another.\n" + plan);

        const string answer = "Brand voice: calm, practical, no hype. Target audience: solo freelancers and small agencies. " +
                              "Content constraints: no face on camera, 8-12 minute videos, two uploads a week.";
        var response = await client.CompleteAsync(runId, "T1", new { output = answer });
        Assert.That(ApiAssert.Json(response, HttpStatusCode.OK).Str("state"), Is.EqualTo("completed"));

        var done = await client.WaitForStatusAsync(runId, "completed");
        var answeredAt = RunGraph.Time(RunGraph.Task(done, "T1"), "completed_at");
        var timeline = RunGraph.Describe(done);
        Assert.Multiple(() =>
        {
            Assert.That(RunGraph.Tasks(done).Select(RunGraph.State), Is.All.EqualTo("completed"), timeline);
            Assert.That(done.Str("final_output"), Does.Contain(answer));
            Assert.That(done["error"], Is.Null);
            foreach (var task in RunGraph.ForAgent(done, "research"))
            {
                Assert.That(RunGraph.Time(task, "completed_at"), Is.LessThanOrEqualTo(answeredAt), "Research should not wait for the human.\n" + timeline);
            }

            // Nothing that needs the human's context started before the human gave it.
            foreach (var task in RunGraph.Descendants(done, "T1"))
            {
                Assert.That(RunGraph.Time(task, "started_at"), Is.GreaterThanOrEqualTo(answeredAt), $"{RunGraph.Id(task)} started before T1 was answered.\n{timeline}");
            }
        });
        await TestContext.Out.WriteLineAsync(timeline);
    }

    [Test]
    public async Task StartRun_HumanGateMatchingOnePlannedTask_RoutesItToAHumanAndItsDependantsContinueAfterTheAnswer()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new
        {
            task = "Research competitor pricing, decide the launch date, then draft the announcement.",
            agents = new[] { new { name = "research" }, new { name = "analyst" }, new { name = "writer" } },
            human_gates = new[] { "LAUNCH" },
        })).Str("run_id");

        var waiting = await client.WaitForStatusAsync(runId, "waiting_human");

        var plan = RunGraph.Describe(waiting);
        var gated = RunGraph.Tasks(waiting)
            .Where(t => $"{t["name"]} {t["description"]}".Contains("launch", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.That(gated, Has.Count.EqualTo(1), "The goal names the launch in exactly one step.\n" + plan);
        var gate = gated[0];
        var gateId = RunGraph.Id(gate);
        var dependants = RunGraph.Descendants(waiting, gateId);
        Assert.Multiple(() =>
        {
            Assert.That(RunGraph.OfKind(waiting, "human").Select(RunGraph.Id), Is.EqualTo(new[] { gateId }), plan);
            Assert.That(gate["agent"], Is.Null);
            Assert.That(gate.Str("prompt"), Does.Contain("launch").IgnoreCase);
            Assert.That(RunGraph.State(gate), Is.EqualTo("waiting_human"));
            Assert.That(RunGraph.WaitingOn(waiting), Is.EqualTo(new[] { gateId }));
            Assert.That(RunGraph.DependsOn(gate).Select(d => RunGraph.State(RunGraph.Task(waiting, d))), Is.All.EqualTo("completed"), plan);
            Assert.That(dependants, Is.Not.Empty, "The gated step should have work after it.\n" + plan);
            Assert.That(dependants.Select(RunGraph.State), Is.All.EqualTo("pending"), plan);
        });

        const string answer = "Launch on Tuesday 3 March at 9:00 CET, after the pricing page is live.";
        var response = await client.CompleteAsync(runId, gateId, new { output = answer });
        Assert.That(ApiAssert.Json(response, HttpStatusCode.OK).Str("state"), Is.EqualTo("completed"));

        var done = await client.WaitForStatusAsync(runId, "completed");
        var answeredAt = RunGraph.Time(RunGraph.Task(done, gateId), "completed_at");
        var timeline = RunGraph.Describe(done);
        Assert.Multiple(() =>
        {
            Assert.That(RunGraph.Tasks(done).Select(RunGraph.State), Is.All.EqualTo("completed"), timeline);
            Assert.That(RunGraph.Task(done, gateId).Str("output"), Is.EqualTo(answer));
            Assert.That(done.Str("final_output"), Does.Contain(answer));
            foreach (var task in RunGraph.Descendants(done, gateId))
            {
                Assert.That(RunGraph.Time(task, "started_at"), Is.GreaterThanOrEqualTo(answeredAt), timeline);
            }
        });
    }
}
