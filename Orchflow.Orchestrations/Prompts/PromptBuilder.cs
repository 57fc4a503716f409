using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;

namespace Orchflow.Prompts;

/// <summary>One message of a chat with a model.</summary>
public sealed record PromptMessage(PromptRole Role, string Content);

public enum PromptRole
{
    System,
    User,
    Assistant,
}

/// <summary>
/// Turns the engine's requests into the chat messages a language model is sent, from the templates. System messages
/// are Orchflow's own text alone; everything people, tools and models wrote goes in user messages as
/// <see cref="DataBlocks"/>, which the system messages say are material, never instructions.
/// </summary>
public static class PromptBuilder
{
    const string None = "(none)";

    static string DataRules => PromptTemplates.Load("data-rules.md");

    public static IReadOnlyList<PromptMessage> Plan(PlanningRequest request)
    {
        var d = request.Definition;
        var system = PromptTemplates.Render("planner.md", new Dictionary<string, string> { ["data_rules"] = DataRules });
        var data = new DataBlocks()
            .Add("goal", d.Goal)
            .Add("agents", string.Join("\n", request.Agents.Select(a =>
                $"- {a.Name}: {AgentCatalog.Find(a.Name)?.Description ?? FirstLine(a.Instructions)}")))
            .Add("ask_me_about", Bullets(d.AskMeAbout))
            .Add("human_gates", Bullets(d.HumanGates));
        List<PromptMessage> messages =
        [
            new(PromptRole.System, system),
            new(PromptRole.User, "Plan this goal. Answer with the JSON object only.\n\n" + data),
        ];
        if (request.Review is { } review)
        {
            messages.Add(new PromptMessage(PromptRole.Assistant, review.PreviousPlan));
            messages.Add(new PromptMessage(PromptRole.User, PromptTemplates.Render("planner-review.md", new Dictionary<string, string>
            {
                ["data"] = new DataBlocks().Add("previous plan", review.PreviousPlan).Add("feedback", review.Feedback).ToString(),
            })));
        }

        if (request.Repair is { } repair)
        {
            messages.Add(new PromptMessage(PromptRole.Assistant, repair.PreviousAnswer));
            messages.Add(new PromptMessage(PromptRole.User, PromptTemplates.Render("planner-repair.md", new Dictionary<string, string>
            {
                ["previous_answer"] = repair.PreviousAnswer,
                ["errors"] = Bullets(repair.Errors),
            })));
        }

        return messages;
    }

    public static IReadOnlyList<PromptMessage> Task(AgentTaskRequest request)
    {
        var data = new DataBlocks()
            .Add("goal", request.Goal)
            .Add("task", $"{request.Task.TaskId} — {request.Task.Name}\n{request.Task.Description}");
        Inputs(data, request.Inputs);
        var revision = "";
        if (request.Revision is { } asked)
        {
            data.Add("previous draft", asked.PreviousDraft).Add("reviewer's feedback", asked.Feedback);
            revision = PromptTemplates.Render("agent-revision.md", new Dictionary<string, string>
            {
                ["round"] = asked.Round.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }) + "\n";
        }

        var user = PromptTemplates.Render("agent-task.md", new Dictionary<string, string>
        {
            ["task_id"] = request.Task.TaskId,
            ["revision"] = revision,
            ["data"] = data.ToString(),
        });
        return [new PromptMessage(PromptRole.System, request.SystemPrompt + "\n\n" + DataRules), new PromptMessage(PromptRole.User, user)];
    }

    public static IReadOnlyList<PromptMessage> Synthesis(SynthesisRequest request)
    {
        var system = PromptTemplates.Render("synthesis.md", new Dictionary<string, string> { ["data_rules"] = DataRules });
        var data = new DataBlocks().Add("goal", request.Goal);
        Inputs(data, request.Results);
        return [new PromptMessage(PromptRole.System, system), new PromptMessage(PromptRole.User, "Write the final deliverable.\n\n" + data)];
    }

    /// <summary>The person's answers first, then the outputs built on, each a block named for its task.</summary>
    static void Inputs(DataBlocks data, IEnumerable<TaskInput> inputs)
    {
        var list = inputs.ToList();
        foreach (var input in list.Where(i => i.Kind == TaskKind.Human))
        {
            data.Add($"answer {input.TaskId} — {Attribute(input.Name)}", input.Output);
        }

        foreach (var input in list.Where(i => i.Kind == TaskKind.Agent))
        {
            data.Add($"output {input.TaskId} — {Attribute(input.Name)}", input.Output);
        }
    }

    /// <summary>A task's name as a block's <c>source</c>: on one line, without the quote that would end it.</summary>
    static string Attribute(string name) => string.Join(' ', name.Split(['\n', '\r', '"'], StringSplitOptions.RemoveEmptyEntries)).Trim();

    static string Bullets(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count == 0 ? None : string.Join("\n", list.Select(i => "- " + i));
    }

    static string FirstLine(string? text) => text?.Split('\n')[0].Trim() ?? "";
}
