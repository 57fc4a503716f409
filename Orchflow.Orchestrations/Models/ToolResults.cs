using Orchflow.Domain;

namespace Orchflow.Models;

/// <summary>What a model is told of a call once it is done: the tool's result, its error, or a person's refusal and why.</summary>
public static class ToolResults
{
    public static string ForModel(ToolCall call) => call.State switch
    {
        ToolCallState.Completed => call.Result ?? "",
        ToolCallState.Rejected => $"A person refused this call, so it was not made. Their reason: {call.Feedback}",
        _ => $"The call failed: {call.Error}",
    };
}
