using Orchflow.Telemetry;

namespace Orchflow.Models;

/// <summary>
/// A model call that failed in a way a retry of the whole task cannot fix: the key was rejected, the provider kept
/// failing through every retry, or its answer was unreadable. The message is what the run's <c>error</c> shows the
/// user, so it says what to fix; it never holds a key or a provider's raw answer. It carries no inner exception:
/// the worker records a failure's whole chain in orchestration history, and a client's exception quotes the answer.
/// </summary>
public sealed class ModelProviderException : Exception
{
    public ModelProviderException(string message, int? status = null, string cause = FailureCauses.Other)
        : base(message)
    {
        Status = status;
        Cause = cause;
    }

    /// <summary>The provider's HTTP status, when it answered.</summary>
    public int? Status { get; }

    /// <summary>What went wrong in one word of <see cref="FailureCauses"/>, for telemetry: never the provider's own text.</summary>
    public string Cause { get; }
}
