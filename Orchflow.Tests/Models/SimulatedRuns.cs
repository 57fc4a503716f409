using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Models;
using Orchflow.Planning;

namespace Orchflow.Tests.Models;

/// <summary>
/// Plays a whole run on the simulated model without the engine: plans it as the planner does, runs each task in plan
/// order with the inputs the engine would give it, answers every human task, and synthesizes.
/// </summary>
public static class SimulatedRuns
{
    /// <summary>A request of the public docs, as a user sends it.</summary>
    public sealed record Example(string Name, string Goal, string[]? Agents, string[] AskMeAbout, string[] HumanGates)
    {
        public override string ToString() => Name;
    }

    public const string YouTubeGoal =
        "Plan and launch a faceless YouTube channel about AI tools for freelancers. Research 5 competing channels, extract " +
        "their content patterns, define our positioning, decide the branding direction, design a 30-day content plan, and " +
        "produce a launch checklist.";

    public const string CompetitorGoal = "Research 5 competitors, extract pricing, compare positioning, then propose our launch strategy.";

    public const string ContentGoal = "Research, write and edit a blog post about AI tools for freelancers, then get final approval before publishing.";

    public const string ArchitectureGoal = "Design the system, review security/billing risks, and produce an implementation roadmap.";

    /// <summary>Every request of the public docs, and the two "good first tasks" the docs describe in words.</summary>
    public static readonly Example[] DocsExamples =
    [
        new("QuickStart", "Plan and launch a faceless YouTube channel about AI tools for freelancers.",
            ["research", "analyst", "writer"], ["brand voice", "target audience"], []),
        new("Runs", CompetitorGoal, null, ["company details"], []),
        new("Providers", "Research competitors and draft a launch strategy.", ["research", "writer"], ["company details"], []),
        new("Python", "Research competitors, compare pricing, then draft our launch strategy.",
            ["research", "analyst", "writer"], ["company details", "brand voice"], []),
        new("YouTube", YouTubeGoal, ["research", "analyst", "writer"], ["brand voice", "target audience", "content constraints"], []),
        new("Content", ContentGoal, null, ["brand voice"], ["final approval"]),
        new("Architecture", ArchitectureGoal, null, ["product constraints"], []),
    ];

    public static Example Find(string name) => DocsExamples.Single(e => e.Name == name);

    static readonly Dictionary<string, string> Answers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["brand voice"] = "Brand voice: direct, useful, technical.",
        ["target audience"] = "Target audience: solo freelancers and small agencies.",
        ["content constraints"] = "Content constraints: no face on camera, two videos a week.",
        ["company details"] = "Company: a workflow API for AI apps.",
        ["product constraints"] = "Product constraints: a team of three, launch in ten weeks, EU customers only.",
    };

    /// <summary>What a person answers to a human task: each topic it asks about, answered in a line, or an approval.</summary>
    public static string HumanAnswer(PlannedTask task) =>
        task.Prompt is { } prompt && Answers.Where(a => prompt.Contains("- " + a.Key, StringComparison.OrdinalIgnoreCase)).Select(a => a.Value).ToList() is { Count: > 0 } answers
            ? string.Join("\n", answers)
            : "Approved: publish as written.";

    /// <summary>The plan, every task's output in plan order, and the final output.</summary>
    public static async Task<(RunPlan Plan, IReadOnlyList<TaskInput> Outputs, string Final)> PlayAsync(Example example)
    {
        var model = new SimulatedRunModel(Options.Create(new SimulatedModelOptions { LatencyMs = 0 }), TimeProvider.System);
        var agents = AgentCatalog.Resolve(example.Agents?.Select(a => new AgentSpec(a)).ToList());
        var definition = new RunDefinition(example.Goal, agents, example.AskMeAbout, example.HumanGates, false, null, null);
        var planned = await new Planner(TimeProvider.System, NullLogger<Planner>.Instance)
            .PlanAsync(model, definition, agents, CancellationToken.None);

        var outputs = new List<TaskInput>();
        foreach (var task in planned.Plan.Tasks)
        {
            if (task.Kind == TaskKind.Human)
            {
                outputs.Add(new TaskInput(task.TaskId, task.Name, task.Kind, HumanAnswer(task)));
                continue;
            }

            // As AgentContext gathers them: every human answer given so far, then the direct dependencies' outputs.
            var inputs = outputs.Where(o => o.Kind == TaskKind.Human)
                .Concat(outputs.Where(o => o.Kind == TaskKind.Agent && task.DependsOn.Contains(o.TaskId)))
                .ToList();
            var agent = agents.Single(a => a.Name == task.Agent);
            var reply = await model.RunTaskAsync(
                new AgentTaskRequest(example.Goal, task, agent, AgentCatalog.SystemPromptFor(agent), inputs), CancellationToken.None);
            outputs.Add(new TaskInput(task.TaskId, task.Name, task.Kind, reply.Value));
        }

        var final = await model.SynthesizeAsync(new SynthesisRequest(example.Goal, outputs), CancellationToken.None);
        return (planned.Plan, outputs, final.Value);
    }
}
