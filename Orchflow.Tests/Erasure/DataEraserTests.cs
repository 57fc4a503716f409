using Azure;
using Azure.Data.Tables;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Erasure;
using Orchflow.Infrastructure;
using Orchflow.Infrastructure.Secrets;
using Orchflow.Infrastructure.Storage;
using Orchflow.Tests.Infrastructure;
using Orchflow.Tests.Models;
using Orchflow.Webhooks;

namespace Orchflow.Tests.Erasure;

/// <summary>
/// The eraser over real tables on Azurite: an erasure cut short by a storage fault midway is left pending, and the next
/// sweep finishes it. The durable client is a loose mock that knows no orchestration: these runs never started one.
/// </summary>
[TestFixture]
public sealed class DataEraserTests
{
    readonly ManualTimeProvider clock = new(DateTimeOffset.UtcNow);
    readonly DurableTaskClient durable = new Mock<DurableTaskClient>(MockBehavior.Loose, "test").Object;
    string prefix = null!;

    [SetUp]
    public void NewTables() => prefix = StorageFixture.NewTablePrefix();

    [Test]
    public async Task Sweep_AccountErasureCutShortBySecretStoreFailure_IsLeftPendingAndFinishedByTheNextSweep()
    {
        var tables = StorageFixture.NewTables(prefix);
        var (accountId, providerId, runId) = await SeedAsync(tables);
        var other = await SeedAsync(tables);
        // The provider's secret is deleted before its row; that delete fails, as Key Vault or storage may.
        var fault = new FailingRequests("DELETE", providerId.Replace('_', '-'));
        var faulty = Eraser(fault.Tables(prefix));
        var healthy = Eraser(tables);

        await faulty.CloseAccountAsync(accountId, CancellationToken.None);
        clock.Advance(DataEraser.Settle);
        var pendingAfterFault = await faulty.SweepAsync(durable, CancellationToken.None);
        var leftAfterFault = await RowsAsync(accountId, runId);
        var pendingAfterRetry = await healthy.SweepAsync(durable, CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(fault.Failed, Is.EqualTo(1));
            Assert.That(pendingAfterFault, Is.True, "cut short: still pending");
            Assert.That(leftAfterFault, Has.Some.Contains("Accounts | account | " + accountId), "the account row goes last, so a retry finds everything");
            Assert.That(leftAfterFault, Has.None.Contains(runId), "what the first pass reached before the fault is gone");
            Assert.That(pendingAfterRetry, Is.False);
            Assert.That(await RowsAsync(accountId, runId), Is.Empty, "the next sweep finished the erasure");
            Assert.That(await RowsAsync(other.AccountId, other.RunId), Has.Some.StartsWith("RunTasks").And.Some.StartsWith("Accounts"), "another account is untouched");
        });
    }

    [Test]
    public async Task Sweep_AccountErasureAskedForMomentsAgo_WaitsForKeysTrustedElsewhereToLapse()
    {
        var tables = StorageFixture.NewTables(prefix);
        var (accountId, _, runId) = await SeedAsync(tables);
        var eraser = Eraser(tables);

        await eraser.CloseAccountAsync(accountId, CancellationToken.None);
        var pendingAtOnce = await eraser.SweepAsync(durable, CancellationToken.None);
        var accountRowAtOnce = await RowsAsync(accountId);
        clock.Advance(DataEraser.Settle);
        var pendingLater = await eraser.SweepAsync(durable, CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(pendingAtOnce, Is.True, "another instance may still let a request of the account in for a few seconds");
            Assert.That(accountRowAtOnce, Has.Some.Contains("Accounts | account | " + accountId));
            Assert.That(pendingLater, Is.False);
            Assert.That(await RowsAsync(accountId, runId), Is.Empty);
        });
    }

    [Test]
    public async Task CloseAccount_KeyIssuedByAnotherInstanceWhileClosing_IsRefused()
    {
        var tables = StorageFixture.NewTables(prefix);
        var (accountId, _, _) = await SeedAsync(tables);
        var keys = new TableApiKeyStore(tables);

        await Eraser(tables).CloseAccountAsync(accountId, CancellationToken.None);
        // Another instance still trusting a key of the account issues one more before it learns of the closing.
        var lateHash = Guid.NewGuid().ToString("N");
        var issued = await keys.TryCreateAsync(new ApiKeyRecord(accountId, Ids.NewKeyId(), "late", "…late", clock.GetUtcNow()), lateHash, 20,
            CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(issued, Is.True);
            Assert.That(await keys.FindAsync(lateHash, CancellationToken.None), Is.Null, "the account is closed: no key of it is found");
        });
    }

    DataEraser Eraser(OrchflowTables tables)
    {
        var secrets = new LocalSecretStore(tables, Options.Create(new SecurityOptions { AllowDevelopmentKeys = true }));
        var webhooks = new TableWebhookStore(tables);
        return new DataEraser(
            new TableErasureStore(tables, KnownRuns.WithoutWindow()),
            new TableAccountStore(tables),
            new TableRunStore(tables, clock, []),
            new TableApiKeyStore(tables),
            new TableProviderStore(tables),
            webhooks,
            new TableToolServerStore(tables),
            new TableIdempotencyStore(tables, secrets, clock),
            new TableRateLimitStore(tables, clock),
            secrets,
            new WebhookDirectory(webhooks, Options.Create(new WebhookOptions())),
            new ErasureSignal(),
            Options.Create(new RetentionOptions()),
            clock,
            NullLogger<DataEraser>.Instance);
    }

    /// <summary>An account with a key, a provider and its secret, and a queued run holding an active place.</summary>
    async Task<(string AccountId, string ProviderId, string RunId)> SeedAsync(OrchflowTables tables)
    {
        var account = new Account(Ids.NewAccountId(), "Erased", $"{Guid.NewGuid():N}@example.com", 5, clock.GetUtcNow());
        await new TableAccountStore(tables).TryCreateAsync(account, TableApiKeyStoreTests.FirstKey(account), Guid.NewGuid().ToString("N"), CancellationToken.None);
        var providerId = Ids.NewProviderId();
        var secretName = $"provider-{account.AccountId}-{providerId}".Replace('_', '-');
        await new LocalSecretStore(tables, Options.Create(new SecurityOptions { AllowDevelopmentKeys = true })).SetAsync(secretName, "sk-secret", CancellationToken.None);
        await new TableProviderStore(tables).TryCreateAsync(
            new ProviderRecord(account.AccountId, providerId, "openai", "Mine", "gpt", null, "…cret", secretName, clock.GetUtcNow()), 20, CancellationToken.None);
        var runs = new TableRunStore(tables, clock, []);
        await runs.StartCountingAsync(account.AccountId, CancellationToken.None);
        var run = StoredRuns.New(account.AccountId, clock.GetUtcNow());
        await new TableActiveRuns(tables, clock).TryTakeAsync(account.AccountId, run.RunId, 0, 100, CancellationToken.None);
        await runs.CreateAsync(run, CancellationToken.None);
        return (account.AccountId, providerId, run.RunId);
    }

    Task<List<string>> RowsAsync(params string[] ids) => StorageFixture.RowsNamingAsync(prefix, ids);
}
