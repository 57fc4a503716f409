using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Webhooks;

namespace Orchflow.Tests.Webhooks;

/// <summary>
/// The outbox the run store writes ahead to: a dispatch only when some webhook of the account wants one of the events,
/// hidden until the commit confirms it, and no failure of the queue ever reaching the run (a storage fault a host on
/// Azurite cannot be made to have, hence the mocks).
/// </summary>
[TestFixture]
public sealed class WebhookOutboxTests
{
    static readonly IReadOnlyList<RunLogEntry> Entries =
    [
        new(7, EventTypes.TaskWaitingHuman, DateTimeOffset.UtcNow, "T1", []),
        new(8, EventTypes.RunWaitingHuman, DateTimeOffset.UtcNow, null, new JsonObject()),
    ];

    static WebhookRecord Webhook(params string[] events) =>
        new("acc_1", "whk_1", "https://hooks.example.com/x", events, null, 1, "webhook-1", null, null, null, DateTimeOffset.UtcNow);

    static (WebhookOutbox Outbox, Mock<IWebhookQueue> Queue) Outbox(params WebhookRecord[] webhooks)
    {
        var store = new Mock<IWebhookStore>(MockBehavior.Strict);
        store.Setup(s => s.ListAsync("acc_1", It.IsAny<CancellationToken>())).ReturnsAsync(webhooks);
        var queue = new Mock<IWebhookQueue>(MockBehavior.Strict);
        var options = Options.Create(new WebhookOptions());
        return (new WebhookOutbox(new WebhookDirectory(store.Object, options), queue.Object, options, NullLogger<WebhookOutbox>.Instance), queue);
    }

    [Test]
    public async Task Prepare_AccountWithoutWebhooks_QueuesNothing()
    {
        var (outbox, queue) = Outbox();

        var notice = await outbox.PrepareAsync("acc_1", "run_1", Entries, CancellationToken.None);

        Assert.That(notice, Is.Null);
        queue.VerifyNoOtherCalls();
    }

    [Test]
    public async Task Prepare_WebhooksWantingNoneOfTheEvents_QueuesNothing()
    {
        var disabled = Webhook(EventTypes.RunWaitingHuman) with { DisabledReason = "410" };
        var (outbox, queue) = Outbox(Webhook(EventTypes.RunCompleted), disabled);

        var notice = await outbox.PrepareAsync("acc_1", "run_1", Entries, CancellationToken.None);

        Assert.That(notice, Is.Null);
        queue.VerifyNoOtherCalls();
    }

    [Test]
    public async Task Prepare_AWebhookWantsAnEvent_QueuesTheRangeHiddenForTheOutboxDelay()
    {
        var (outbox, queue) = Outbox(Webhook(EventTypes.RunWaitingHuman));
        string? sent = null;
        queue.Setup(q => q.SendAsync(It.IsAny<string>(), TimeSpan.FromSeconds(30), It.IsAny<CancellationToken>()))
            .Callback((string text, TimeSpan _, CancellationToken _) => sent = text)
            .ReturnsAsync(new QueuedMessage("m1", "r1"));

        var notice = await outbox.PrepareAsync("acc_1", "run_1", Entries, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(notice, Is.EqualTo(new RunLogNotice("m1", "r1")));
            Assert.That(WebhookMessage.Parse(sent!), Is.EqualTo(new DispatchMessage("acc_1", "run_1", 7, 8)));
        });
    }

    [Test]
    public async Task EveryStep_QueueFails_NothingIsThrownAtTheRun()
    {
        var (outbox, queue) = Outbox(Webhook(EventTypes.RunWaitingHuman));
        queue.Setup(q => q.SendAsync(It.IsAny<string>(), It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>())).ThrowsAsync(new IOException("queue down"));
        queue.Setup(q => q.ShowNowAsync(It.IsAny<QueuedMessage>(), It.IsAny<CancellationToken>())).ThrowsAsync(new IOException("queue down"));
        queue.Setup(q => q.DeleteAsync(It.IsAny<QueuedMessage>(), It.IsAny<CancellationToken>())).ThrowsAsync(new IOException("queue down"));

        var notice = await outbox.PrepareAsync("acc_1", "run_1", Entries, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(notice, Is.Null);
            Assert.That(() => outbox.ConfirmAsync(new RunLogNotice("m1", "r1"), CancellationToken.None), Throws.Nothing);
            Assert.That(() => outbox.AbandonAsync(new RunLogNotice("m1", "r1"), CancellationToken.None), Throws.Nothing);
        });
    }

    [Test]
    public void Messages_RoundTrip_AndTextThatIsNoMessageIsNull()
    {
        WebhookMessage[] messages = [new DispatchMessage("acc_1", "run_1", 3, 5), new DeliverMessage("acc_1", "whk_1", "key", 4)];

        Assert.Multiple(() =>
        {
            Assert.That(messages.Select(m => WebhookMessage.Parse(m.ToJson())), Is.EqualTo(messages));
            Assert.That(messages.Select(m => m.ToJson()), Has.Some.Contains("\"kind\":\"dispatch\"").And.Some.Contains("\"kind\":\"deliver\""));
            Assert.That(WebhookMessage.Parse("not json"), Is.Null);
            Assert.That(WebhookMessage.Parse("""{"kind":"explode"}"""), Is.Null);
            Assert.That(WebhookMessage.Parse("[]"), Is.Null);
        });
    }
}
