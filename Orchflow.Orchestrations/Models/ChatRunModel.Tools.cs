using System.Text.Json;
using Microsoft.Extensions.AI;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Prompts;
using Orchflow.Telemetry;

namespace Orchflow.Models;

/// <summary>An agent task's tool loop on a real provider: the calls so far sent back as function calls and their results.</summary>
public sealed partial class ChatRunModel
{
    public async Task<ModelReply<AgentTurn>> TurnAsync(
        AgentTaskRequest request, IReadOnlyList<ToolDefinition> tools, IReadOnlyList<ToolCall> calls, CancellationToken cancellationToken)
    {
        var names = new ModelToolNames(tools.Select(t => t.Name).Concat(calls.Select(c => c.Tool)));
        var messages = PromptBuilder.Task(request).Select(m => new ChatMessage(Role(m.Role), m.Content)).ToList();
        foreach (var step in calls.Where(c => c.IsDone).GroupBy(c => c.Step).OrderBy(g => g.Key))
        {
            messages.Add(new ChatMessage(ChatRole.Assistant,
                step.Select(c => (AIContent)new FunctionCallContent(c.ModelCallId, names.ForModel(c.Tool), Arguments(c.Arguments))).ToList()));
            messages.Add(new ChatMessage(ChatRole.Tool, step.Select(c => (AIContent)new FunctionResultContent(c.ModelCallId, ToolResults.ForModel(c))).ToList()));
        }

        var options = tools.Count == 0 ? null : new ChatOptions
        {
            Tools = tools.Select(t => (AITool)AIFunctionFactory.CreateDeclaration(names.ForModel(t.Name), t.Description, Schema(t.InputSchemaJson))).ToList(),
        };

        using var call = ModelCall.Start(target.Kind, target.Model, ModelCall.Operations.Task);
        ChatResponse response;
        try
        {
            response = await RespondAsync(messages, options, request.Output, cancellationToken);
        }
        catch (ModelProviderException e)
        {
            call.Failed(e.Cause, e.Status);
            throw;
        }

        var usage = new TokenUsage(response.Usage?.InputTokenCount ?? 0, response.Usage?.OutputTokenCount ?? 0);
        var asked = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>()
            .Select(f => new ModelToolCall(f.CallId, names.ToTool(f.Name), JsonSerializer.Serialize(f.Arguments ?? new Dictionary<string, object?>())))
            .ToList();
        if (asked.Count == 0 && string.IsNullOrWhiteSpace(response.Text))
        {
            call.Failed(FailureCauses.EmptyAnswer, null);
            throw new ModelProviderException(
                $"The {target.Kind} provider answered with neither text nor tool calls (finish reason: {response.FinishReason?.Value ?? "none"}).",
                cause: FailureCauses.EmptyAnswer);
        }

        call.Succeeded(usage.InputTokens, usage.OutputTokens);
        return new ModelReply<AgentTurn>(asked.Count > 0 ? new AgentTurn(null, asked) : AgentTurn.Finished(response.Text), usage);
    }

    /// <summary>A call's arguments as the function call content holds them; arguments that are not an object go as they are, under "value".</summary>
    static Dictionary<string, object?> Arguments(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, object?>>(json) ?? [];
        }
        catch (JsonException)
        {
            return new Dictionary<string, object?> { ["value"] = json };
        }
    }

    /// <summary>A tool's schema for the provider; one that cannot be read is offered as any object.</summary>
    static JsonElement Schema(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : EmptyObject();
        }
        catch (JsonException)
        {
            return EmptyObject();
        }
    }

    static JsonElement EmptyObject() => JsonDocument.Parse("""{"type":"object"}""").RootElement.Clone();
}
