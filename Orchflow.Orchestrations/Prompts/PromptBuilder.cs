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

/// <summary>Turns the engine's requests into the chat messages a language model is sent, from the templates.</summary>
public static class PromptBuilder
{
    const string None = "(none)";

    public static IReadOnlyList<PromptMessage> Plan(PlanningRequest request)
    {
        var d = request.Definition;
        var system = PromptTemplates.Render("planner.md", new Dictionary<string, string>
        {
            ["goal"] = d.Goal,
            ["agents"] = string.Join("\n", request.Agents.Select(a =>
                $"- {a.Name}: {AgentCatalog.Find(a.Name)?.Description ?? FirstLine(a.Instructions)}")),
            ["ask_me_about"] = Bullets(d.AskMeAbout),
            ["human_gates"] = d.HumanGates.Count == 0
                ? None
                : Bullets(d.HumanGates) + "\n(Orchflow routes any task whose name or description mentions one of these to the person.)",
        });
        List<PromptMessage> messages = [new(PromptRole.System, system), new(PromptRole.User, "Plan the goal. Answer with the JSON object only.")];
        if (request.Review is { } review)
        {
            messages.Add(new PromptMessage(PromptRole.Assistant, review.PreviousPlan));
            messages.Add(new PromptMessage(PromptRole.User, PromptTemplates.Render("planner-review.md", new Dictionary<string, string>
            {
                ["previous_plan"] = review.PreviousPlan,
                ["feedback"] = review.Feedback,
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
        var user = PromptTemplates.Render("agent-task.md", new Dictionary<string, string>
        {
            ["goal"] = request.Goal,
            ["task_id"] = request.Task.TaskId,
            ["task_name"] = request.Task.Name,
            ["task_description"] = request.Task.Description,
            ["human_answers"] = Sections(request.Inputs.Where(i => i.Kind == TaskKind.Human)),
            ["dependency_outputs"] = Sections(request.Inputs.Where(i => i.Kind == TaskKind.Agent)),
        });
        if (request.Revision is { } revision)
        {
            user += "\n\n" + PromptTemplates.Render("agent-revision.md", new Dictionary<string, string>
            {
                ["round"] = revision.Round.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["previous_draft"] = revision.PreviousDraft,
                ["feedback"] = revision.Feedback,
            });
        }

        return [new PromptMessage(PromptRole.System, request.SystemPrompt), new PromptMessage(PromptRole.User, user)];
    }

    public static IReadOnlyList<PromptMessage> Synthesis(SynthesisRequest request)
    {
        var system = PromptTemplates.Render("synthesis.md", new Dictionary<string, string>
        {
            ["goal"] = request.Goal,
            ["human_answers"] = Sections(request.Results.Where(r => r.Kind == TaskKind.Human)),
            ["results"] = Sections(request.Results.Where(r => r.Kind == TaskKind.Agent)),
        });
        return [new PromptMessage(PromptRole.System, system), new PromptMessage(PromptRole.User, "Write the final deliverable.")];
    }

    static string Bullets(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count == 0 ? None : string.Join("\n", list.Select(i => "- " + i));
    }

    static string Sections(IEnumerable<TaskInput> inputs)
    {
        var list = inputs.ToList();
        return list.Count == 0 ? None : string.Join("\n\n", list.Select(i => $"### {i.TaskId} — {i.Name}\n{i.Output.Trim()}"));
    }

    static string FirstLine(string? text) => text?.Split('\n')[0].Trim() ?? "";
}
