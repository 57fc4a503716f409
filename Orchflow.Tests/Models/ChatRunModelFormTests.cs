using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Models;
using Orchflow.Planning;
using Orchflow.Tests.Domain;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Models;

/// <summary>
/// Forms through a real model adapter over real HTTP (docs/api.md, "Forms"): a plan the model writes gets the form of
/// the task that asks the run's topics, and the answer's fields reach the agents and the synthesis by title and name,
/// never as a JSON dump.
/// </summary>
[TestFixture]
public sealed class ChatRunModelFormTests : ChatServerFixture
{
    const string Input = """{"budget_usd":5000,"tone":"playful","public":true}""";

    static readonly RunDefinition Definition = new(
        "Research competitors and draft a launch note.", AgentCatalog.Resolve([new AgentSpec("research"), new AgentSpec("writer")]),
        ["company details"], [], false, "prv_test", null);

    [Test]
    public async Task PlanAsync_ModelsPlanAsksTheTopic_ThatTaskGetsOneRequiredStringField()
    {
        Server.Enqueue(FakeReply.Chat("""
            {"tasks": [
              {"task_id": "T1", "name": "Provide company details", "description": "", "kind": "human", "agent": "", "depends_on": [], "prompt": "What are your company details?"},
              {"task_id": "T2", "name": "Draft the note", "description": "", "kind": "agent", "agent": "writer", "depends_on": ["T1"], "prompt": ""}
            ]}
            """));

        var planned = await new Planner(TimeProvider.System, NullLogger<Planner>.Instance)
            .PlanAsync(Model(), Definition, Definition.Agents, CancellationToken.None);

        var fields = InputSchemas.Fields(planned.Plan.Tasks[0].InputSchema!);
        Assert.Multiple(() =>
        {
            Assert.That(planned.Plan.PlannedBy, Does.Not.Contain("fallback"));
            Assert.That(fields.Select(f => (f.Name, f.Type, f.Label, f.Required)), Is.EqualTo(new[] { ("company_details", "string", "company details", true) }));
            Assert.That(planned.Plan.Tasks[1].InputSchema, Is.Null);
        });
    }

    [Test]
    public async Task RunTaskAsync_AnsweredForm_TheAgentReadsEachFieldByTitleAndName()
    {
        Server.Enqueue(FakeReply.Chat("A note."));
        var agent = new AgentSpec("writer");
        var task = new PlannedTask("T2", "Draft the note", "A one-page note.", TaskKind.Agent, "writer", ["T1"]);

        await Model().RunTaskAsync(new AgentTaskRequest(Definition.Goal, task, agent, AgentCatalog.SystemPromptFor(agent), [Answered()]),
            CancellationToken.None);

        Assert.That(Server.Requests.Single().LastUser, Does.Contain("- **Monthly budget** (`budget_usd`): 5000")
            .And.Contain("- **Tone** (`tone`): playful").And.Contain("- **Public launch** (`public`): yes")
            .And.Not.Contain("\"budget_usd\""));
    }

    [Test]
    public async Task SynthesizeAsync_AnsweredForm_TheEditorReadsEachFieldByTitleAndName()
    {
        Server.Enqueue(FakeReply.Chat("The deliverable."));

        await Model().SynthesizeAsync(new SynthesisRequest(Definition.Goal, [Answered(), new TaskInput("T2", "Draft", TaskKind.Agent, "A note.")]),
            CancellationToken.None);

        Assert.That(Server.Requests.Single().LastUser, Does.Contain("- **Monthly budget** (`budget_usd`): 5000").And.Not.Contain("\"budget_usd\""));
    }

    /// <summary>T1's answer as the run stores it: the text of the form's fields, which is what the agents are given.</summary>
    static TaskInput Answered() => new("T1", "Budget and tone", TaskKind.Human, FormAnswers.Text(FormAnswersTests.Schema, Input));

    ChatRunModel Model()
    {
        var options = new ModelOptions { RequestTimeoutSeconds = 5, MaxAttempts = 1, RetryBaseDelayMs = 10, MaxRetryDelaySeconds = 5 };
        var target = ModelTarget.Create("openai", "gpt-4o-mini", new Uri(Server.BaseUri, "v1").ToString(), "sk-form-test", "prv_test");
        var policy = new ModelCallPolicy(Options.Create(options), TimeProvider.System, NullLogger<ModelCallPolicy>.Instance);
        return new ChatRunModel(ChatRunModel.CreateChatClient(target, Http.UserProviders, options.RequestTimeout), target, policy, options.MaxOutputTokens);
    }
}
