using Azure;
using Microsoft.DurableTask;
using Orchflow.Models;
using Orchflow.Orchestrators;
using Orchflow.Tools;

namespace Orchflow.Tests.Orchestrators;

/// <summary>A run's <c>error</c> says what a failure written for its owner said, and nothing of an unexpected one.</summary>
[TestFixture]
public sealed class FailureCausesTests
{
    [TestCase(typeof(ModelProviderException), "The provider answered 401: check its API key.")]
    [TestCase(typeof(BlockedEndpointException), "Orchflow does not call private addresses.")]
    [TestCase(typeof(ToolServerAnswerException), "The tool server's answer was over 4 MiB.")]
    public void Of_FailureWrittenForTheOwner_IsItsMessage(Type type, string message) =>
        Assert.That(FailureCauses.Of(new TaskFailureDetails(type.FullName!, message, null, null, null)), Is.EqualTo(message));

    [TestCase(typeof(RequestFailedException), "Status: 403 (Server failed to authenticate). Account: orchflowprod123, Key: …")]
    [TestCase(typeof(NullReferenceException), "Object reference not set to an instance of an object.")]
    [TestCase(typeof(InvalidOperationException), "Sequence contains no elements at Orchflow.Activities…")]
    public void Of_UnexpectedFailure_SaysNothingOfItsText(Type type, string message)
    {
        var cause = FailureCauses.Of(new TaskFailureDetails(type.FullName!, message, "at Orchflow.Secret.Path()", null, null));

        Assert.That(cause, Is.EqualTo(FailureCauses.Internal));
    }
}
