using Microsoft.DurableTask;
using Orchflow.Models;
using Orchflow.Tools;

namespace Orchflow.Orchestrators;

/// <summary>
/// What a failed activity tells the run's owner in <c>error</c>: the message of a failure written for them (a model
/// provider's answer, an endpoint Orchflow will not reach, a tool server's answer), or a plain sentence for anything
/// else. An unexpected exception's message can name hosts, storage accounts or internals; it goes to the logs only.
/// </summary>
public static class FailureCauses
{
    static readonly HashSet<string> WrittenForOwners = new(StringComparer.Ordinal)
    {
        typeof(ModelProviderException).FullName!,
        typeof(BlockedEndpointException).FullName!,
        typeof(ToolServerAnswerException).FullName!,
    };

    public const string Internal = "Orchflow hit an internal error; retry the run, and tell the operator if it happens again";

    public static string Of(TaskFailureDetails failure) =>
        WrittenForOwners.Contains(failure.ErrorType) ? failure.ErrorMessage : Internal;
}
