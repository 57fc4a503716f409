using Orchflow.Webhooks;

namespace Orchflow.Tests.Webhooks;

/// <summary>Orchflow:Webhooks at start-up: the defaults pass, a queue name storage would refuse and every limit out of range are named at once.</summary>
[TestFixture]
public sealed class WebhookOptionsValidationTests
{
    readonly WebhookOptionsValidation validation = new();

    [Test]
    public void Validate_Defaults_Succeeds() => Assert.That(validation.Errors(new WebhookOptions()), Is.Empty);

    [TestCase("")]
    [TestCase("Orchflow-Webhooks")]
    [TestCase("ab")]
    [TestCase("hooks_1")]
    [TestCase("-hooks")]
    [TestCase("hooks--1")]
    public void Validate_QueueThatIsNoStorageQueueName_FailsNamingTheSetting(string queue) =>
        Assert.That(validation.Errors(new WebhookOptions { Queue = queue }), Has.One.StartsWith("ORCHFLOW_WEBHOOK_QUEUE must be a storage queue name"));

    [Test]
    public void Validate_EveryLimitOutOfRange_ReportsEachByName()
    {
        var errors = validation.Errors(new WebhookOptions
        {
            MaxAttempts = 0, FirstRetryDelayMs = -1, RetryBackoffFactor = 0.5, MaxRetryDelaySeconds = 604_801, TimeoutSeconds = 0,
            MaxPerAccount = 0, SecretOverlapHours = -1, OutboxDelaySeconds = 0, CacheSeconds = -1, MaxPollIntervalMs = 9,
        });

        Assert.That(errors.Select(e => e.Split(' ')[0]), Is.EqualTo(new[]
        {
            "Orchflow:Webhooks:MaxAttempts", "Orchflow:Webhooks:FirstRetryDelayMs", "Orchflow:Webhooks:RetryBackoffFactor",
            "Orchflow:Webhooks:MaxRetryDelaySeconds", "Orchflow:Webhooks:TimeoutSeconds", "Orchflow:Webhooks:MaxPerAccount",
            "Orchflow:Webhooks:SecretOverlapHours", "Orchflow:Webhooks:OutboxDelaySeconds", "Orchflow:Webhooks:CacheSeconds",
            "Orchflow:Webhooks:MaxPollIntervalMs",
        }));
        Assert.That(errors[3], Is.EqualTo("Orchflow:Webhooks:MaxRetryDelaySeconds must be from 0 to 604800, not 604801."), "a queue hides a message seven days at most");
    }
}
