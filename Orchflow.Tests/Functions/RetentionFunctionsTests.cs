using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Erasure;
using Orchflow.Functions;
using Orchflow.Functions.Functions;
using Orchflow.Tests.Infrastructure;
using Orchflow.Tests.Models;

namespace Orchflow.Tests.Functions;

/// <summary>
/// The Functions app's erasure timer, its method called as the worker would: the function class and its eraser built
/// by the app's own service wiring (<see cref="OrchflowApiServices"/>) over fresh tables on Azurite, with a clock the
/// test moves. The durable client is a loose mock that knows no orchestration: these runs never started one.
/// </summary>
[TestFixture]
public sealed class RetentionFunctionsTests
{
    readonly ManualTimeProvider clock = new(DateTimeOffset.UtcNow);
    readonly DurableTaskClient durable = new Mock<DurableTaskClient>(MockBehavior.Loose, "test").Object;
    string prefix = null!;
    ServiceProvider services = null!;

    [SetUp]
    public void BuildApp()
    {
        prefix = StorageFixture.NewTablePrefix();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Orchflow:Storage:ConnectionString"] = TestEnvironment.Azurite.ConnectionString,
                ["Orchflow:Storage:TablePrefix"] = prefix,
                ["Orchflow:Retention:EndedRunDays"] = "1",
            })
            .Build();
        services = new ServiceCollection()
            .AddLogging()
            .AddOrchflowApi(configuration, isDevelopment: true)
            .AddSingleton<TimeProvider>(clock)
            .BuildServiceProvider();
    }

    [TearDown]
    public void DisposeApp() => services.Dispose();

    [Test]
    public async Task SweepErasures_ClosedAccountAndRunEndedBeforeRetention_ErasesBothAndKeepsARecentRun()
    {
        var function = ActivatorUtilities.CreateInstance<RetentionFunctions>(services);
        var runs = services.GetRequiredService<IRunStore>();
        var closing = await RegisterAsync();
        var closingRun = await StartRunAsync(closing);
        var keeping = await RegisterAsync();
        var old = await StartRunAsync(keeping);
        await runs.ChangeAsync(keeping, old, (run, now) => RunTransitions.Cancel(run, now), CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(2));
        var recent = await StartRunAsync(keeping);
        await runs.ChangeAsync(keeping, recent, (run, now) => RunTransitions.Cancel(run, now), CancellationToken.None);
        await services.GetRequiredService<DataEraser>().CloseAccountAsync(closing, CancellationToken.None);
        clock.Advance(DataEraser.Settle);

        await function.SweepErasures(new TimerInfo(), durable, CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(await StorageFixture.RowsNamingAsync(prefix, closing, closingRun), Is.Empty, "the closed account is erased, its run with it");
            Assert.That(await StorageFixture.RowsNamingAsync(prefix, old), Is.Empty, "the run ended two days ago is past a day's retention");
            Assert.That(await runs.GetAsync(keeping, recent, CancellationToken.None), Is.Not.Null, "the run ended moments ago stays");
            Assert.That(await services.GetRequiredService<IAccountStore>().FindByKeyHashAsync(keeping + "-key", CancellationToken.None), Is.Not.Null,
                "the other account stays");
            Assert.That(await services.GetRequiredService<IErasureStore>().PendingAsync(CancellationToken.None), Is.Empty, "no erasure is left pending");
        });
    }

    [Test]
    public void SweepErasures_Schedule_IsEveryMinute()
    {
        var trigger = typeof(RetentionFunctions).GetMethod(nameof(RetentionFunctions.SweepErasures))!.GetParameters()[0]
            .GetCustomAttributes(typeof(TimerTriggerAttribute), false).Cast<TimerTriggerAttribute>().Single();

        Assert.That(trigger.Schedule, Is.EqualTo("0 * * * * *"), "the minute docs/api.md promises erasures are finished within");
    }

    /// <summary>An account with its first key, whose hash is the account id followed by "-key".</summary>
    async Task<string> RegisterAsync()
    {
        var account = new Account(Ids.NewAccountId(), "Retained", $"{Guid.NewGuid():N}@example.com", 5, clock.GetUtcNow());
        await services.GetRequiredService<IAccountStore>().TryCreateAsync(account, TableApiKeyStoreTests.FirstKey(account), account.AccountId + "-key",
            CancellationToken.None);
        return account.AccountId;
    }

    async Task<string> StartRunAsync(string accountId)
    {
        var runs = services.GetRequiredService<IRunStore>();
        await runs.StartCountingAsync(accountId, CancellationToken.None);
        var run = StoredRuns.New(accountId, clock.GetUtcNow());
        await runs.CreateAsync(run, CancellationToken.None);
        return run.RunId;
    }
}
