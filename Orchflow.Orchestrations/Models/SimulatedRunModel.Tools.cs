using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Telemetry;

namespace Orchflow.Models;

/// <summary>
/// The simulated model's tool loop, so the local default shows agents that act: offered tools, it calls one on its
/// first turn with arguments taken from the task (a URL it names for <c>fetch_url</c>, the task's name for a text
/// argument), then writes its output with what came back, quoted as an input.
/// </summary>
public sealed partial class SimulatedRunModel
{
    public async Task<ModelReply<AgentTurn>> TurnAsync(
        AgentTaskRequest request, IReadOnlyList<ToolDefinition> tools, IReadOnlyList<ToolCall> calls, CancellationToken cancellationToken)
    {
        if (tools.Count > 0 && calls.Count == 0 && Pick(request, tools) is { } ask)
        {
            using var call = ModelCall.Start(Name, Name, ModelCall.Operations.Task);
            await DelayAsync(cancellationToken);
            var usage = Usage(request.Task.Name + " " + request.Task.Description, ask.Arguments);
            call.Succeeded(usage.InputTokens, usage.OutputTokens);
            return new ModelReply<AgentTurn>(new AgentTurn(null, [ask]), usage);
        }

        var results = calls.Where(c => c.IsDone)
            .Select(c => new TaskInput(c.CallId, $"What {c.Tool} answered (called with {c.Arguments})", TaskKind.Agent, ToolResults.ForModel(c)));
        var reply = await RunTaskAsync(request with { Inputs = [.. request.Inputs, .. results] }, cancellationToken);
        return new ModelReply<AgentTurn>(AgentTurn.Finished(reply.Value), reply.Usage);
    }

    /// <summary>The call to make: <c>fetch_url</c> on a URL the task or its inputs name, else the first other tool, filled from the task.</summary>
    static ModelToolCall? Pick(AgentTaskRequest request, IReadOnlyList<ToolDefinition> tools)
    {
        var text = string.Join("\n", new[] { request.Goal, request.Task.Name, request.Task.Description }.Concat(request.Inputs.Select(i => i.Output)));
        if (tools.Any(t => t.Name == BuiltInTools.FetchUrl) && Url().Match(text) is { Success: true } url)
        {
            return new ModelToolCall("call_1", BuiltInTools.FetchUrl, new JsonObject { ["url"] = url.Value.TrimEnd('.', ',', ')') }.ToJsonString());
        }

        return tools.FirstOrDefault(t => t.Name != BuiltInTools.FetchUrl) is { } tool
            ? new ModelToolCall("call_1", tool.Name, Arguments(tool.InputSchemaJson, request.Task.Name).ToJsonString())
            : null;
    }

    /// <summary>Arguments for a schema: the task's name for text, 1, 2, … for numbers, true for flags; only what it requires, or all it lists.</summary>
    static JsonObject Arguments(string schemaJson, string taskName)
    {
        var arguments = new JsonObject();
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(schemaJson);
        }
        catch (JsonException)
        {
            return arguments;
        }

        if (parsed is not JsonObject { } schema || schema["properties"] is not JsonObject properties)
        {
            return arguments;
        }

        var required = (schema["required"] as JsonArray)?.Select(r => r?.GetValue<string>()).OfType<string>().ToHashSet();
        var number = 1;
        foreach (var (name, property) in properties)
        {
            if (required is { Count: > 0 } && !required.Contains(name))
            {
                continue;
            }

            arguments[name] = (property?["type"] as JsonValue)?.GetValue<string>() switch
            {
                "integer" or "number" => number++,
                "boolean" => true,
                "string" => taskName,
                _ => null,
            };
            if (arguments[name] is null)
            {
                arguments.Remove(name);
            }
        }

        return arguments;
    }

    [GeneratedRegex(@"https?://[^\s""'<>]+")]
    private static partial Regex Url();
}
