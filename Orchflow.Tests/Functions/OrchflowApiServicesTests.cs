using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchflow.Functions;

namespace Orchflow.Tests.Functions;

/// <summary>A host wired by <see cref="OrchflowApiServices"/> refuses to start on bad settings, saying every one at once.</summary>
[TestFixture]
public sealed class OrchflowApiServicesTests
{
    [Test]
    public void Start_DefaultSettingsWithStorage_Succeeds()
    {
        using var services = Build();

        Assert.DoesNotThrow(services.GetRequiredService<IStartupValidator>().Validate);
    }

    [Test]
    public void Start_BadSettingsInSeveralSections_FailsNamingEveryBadSetting()
    {
        using var services = Build(
            ("Orchflow:Engine:MaxParallelTasks", "0"),
            ("Orchflow:Engine:ContextBudgetChars", "10"),
            ("Orchflow:RateLimit:Burst", "0"),
            ("Orchflow:Streams:PollMs", "1"),
            ("ORCHFLOW_WEBHOOK_QUEUE", "Hooks"));

        var e = Assert.Throws<AggregateException>(services.GetRequiredService<IStartupValidator>().Validate);

        var failures = e!.InnerExceptions.Cast<OptionsValidationException>().SelectMany(x => x.Failures).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(failures.Select(f => f.Split(' ')[0]), Is.EquivalentTo(new[]
            {
                "Orchflow:Engine:MaxParallelTasks", "Orchflow:Engine:ContextBudgetChars", "Orchflow:RateLimit:Burst",
                "Orchflow:Streams:PollMs", "ORCHFLOW_WEBHOOK_QUEUE",
            }));
            Assert.That(e.Message, Does.Contain("Orchflow:Engine:MaxParallelTasks must be from 1 to 50, not 0."), "what a host's crash prints");
        });
    }

    [Test]
    public void OptionsValue_BadSetting_ThrowsNamingIt()
    {
        using var services = Build(("Orchflow:Engine:MaxReviewRounds", "-1"));

        var e = Assert.Throws<OptionsValidationException>(() => _ = services.GetRequiredService<IOptions<EngineOptions>>().Value);

        Assert.That(e!.Message, Is.EqualTo("Orchflow:Engine:MaxReviewRounds must be from 0 to 20, not -1."));
    }

    [Test]
    public void WebhookQueue_ComesFromTheFlatSettingOnly()
    {
        using var flat = Build(("ORCHFLOW_WEBHOOK_QUEUE", "hooks-flat"), ("Orchflow:Webhooks:Queue", "hooks-nested"));
        using var nestedOnly = Build(("Orchflow:Webhooks:Queue", "hooks-nested"));

        Assert.Multiple(() =>
        {
            Assert.That(flat.GetRequiredService<IOptions<Orchflow.Webhooks.WebhookOptions>>().Value.Queue, Is.EqualTo("hooks-flat"),
                "the name the Functions queue trigger resolves");
            Assert.That(nestedOnly.GetRequiredService<IOptions<Orchflow.Webhooks.WebhookOptions>>().Value.Queue, Is.EqualTo("orchflow-webhooks"),
                "a nested name would let the app and the trigger name different queues");
        });
    }

    /// <summary>The API's services from in-memory settings, in Development, as the standalone host would build them.</summary>
    static ServiceProvider Build(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))
                // Constructing storage clients opens no connection, so no storage needs to be running.
                .Append(KeyValuePair.Create("Orchflow:Storage:ConnectionString", (string?)"UseDevelopmentStorage=true")))
            .Build();
        return new ServiceCollection()
            .AddLogging()
            .AddOrchflowApi(configuration, isDevelopment: true)
            .BuildServiceProvider();
    }
}
