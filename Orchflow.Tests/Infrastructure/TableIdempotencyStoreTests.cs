using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Infrastructure;
using Orchflow.Infrastructure.Secrets;
using Orchflow.Infrastructure.Storage;
using Orchflow.Tests.Models;

namespace Orchflow.Tests.Infrastructure;

/// <summary>Idempotency keys on Table Storage (Azurite), with a clock the test moves: claims, replays, expiry and abandoned claims.</summary>
[TestFixture]
public sealed class TableIdempotencyStoreTests
{
    static readonly StoredResponse Created = new(201, "application/json", """{"run_id":"run_x"}""", new Dictionary<string, string> { ["Location"] = "/api/v1/runs/run_x" }, false);

    ManualTimeProvider clock = null!;
    TableIdempotencyStore store = null!;

    [SetUp]
    public void CreateStore()
    {
        clock = new ManualTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        var tables = StorageFixture.NewTables();
        var secrets = new LocalSecretStore(tables, Options.Create(new SecurityOptions { AllowDevelopmentKeys = true }));
        store = new TableIdempotencyStore(tables, secrets, clock);
    }

    [Test]
    public async Task ClaimAsync_SameKeyAfterCompletion_ReplaysTheStoredResponse()
    {
        var first = await store.ClaimAsync("acc_a", "k1", "fp", CancellationToken.None);
        await store.CompleteAsync(first, Created, CancellationToken.None);

        var again = await store.ClaimAsync("acc_a", "k1", "fp", CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(first.Outcome, Is.EqualTo(IdempotencyOutcome.Claimed));
            Assert.That(again.Outcome, Is.EqualTo(IdempotencyOutcome.Replay));
            Assert.That(again.Response!.Status, Is.EqualTo(201));
            Assert.That(again.Response.Body, Is.EqualTo(Created.Body));
            Assert.That(again.Response.Headers["Location"], Is.EqualTo("/api/v1/runs/run_x"));
        });
    }

    [Test]
    public async Task ClaimAsync_WhileTheFirstIsInProgress_SaysSoAndForAnotherBodyMismatch()
    {
        await store.ClaimAsync("acc_a", "k2", "fp", CancellationToken.None);

        var same = await store.ClaimAsync("acc_a", "k2", "fp", CancellationToken.None);
        var other = await store.ClaimAsync("acc_a", "k2", "another", CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(same.Outcome, Is.EqualTo(IdempotencyOutcome.InProgress));
            Assert.That(other.Outcome, Is.EqualTo(IdempotencyOutcome.Mismatch));
        });
    }

    [Test]
    public async Task ClaimAsync_AbandonedClaimAfterItsLease_IsTakenOver()
    {
        await store.ClaimAsync("acc_a", "k3", "fp", CancellationToken.None);

        clock.Advance(TableIdempotencyStore.Lease + TimeSpan.FromSeconds(1));
        var retry = await store.ClaimAsync("acc_a", "k3", "fp", CancellationToken.None);

        Assert.That(retry.Outcome, Is.EqualTo(IdempotencyOutcome.Claimed));
    }

    [Test]
    public async Task ClaimAsync_KeyOlderThanADay_IsFreeForANewRequest()
    {
        var first = await store.ClaimAsync("acc_a", "k4", "fp", CancellationToken.None);
        await store.CompleteAsync(first, Created, CancellationToken.None);

        clock.Advance(TableIdempotencyStore.Lifetime + TimeSpan.FromMinutes(1));
        var reuse = await store.ClaimAsync("acc_a", "k4", "a different request", CancellationToken.None);

        Assert.That(reuse.Outcome, Is.EqualTo(IdempotencyOutcome.Claimed));
    }

    [Test]
    public async Task ReleaseAsync_ThenTheSameRequest_IsDoneAfresh()
    {
        var first = await store.ClaimAsync("acc_a", "k5", "fp", CancellationToken.None);
        await store.ReleaseAsync(first, CancellationToken.None);

        var retry = await store.ClaimAsync("acc_a", "k5", "fp", CancellationToken.None);

        Assert.That(retry.Outcome, Is.EqualTo(IdempotencyOutcome.Claimed));
    }

    [Test]
    public async Task CompleteAsync_ResponseHoldingASecret_IsReplayedFromTheSecretStore()
    {
        var claim = await store.ClaimAsync("acc_a", "k6", "fp", CancellationToken.None);
        var secret = Created with { Body = """{"secret":"whsec_abc"}""", HoldsSecret = true };
        await store.CompleteAsync(claim, secret, CancellationToken.None);

        var replay = await store.ClaimAsync("acc_a", "k6", "fp", CancellationToken.None);

        Assert.That(replay.Response!.Body, Is.EqualTo(secret.Body));
    }

    [Test]
    public async Task ClaimAsync_ExpiredKeyWhoseAnswerHeldASecret_OnAVaultThatKeepsDeletedNames_IsClaimedAndCompleted()
    {
        var vault = new SoftDeletingSecrets();
        var onVault = new TableIdempotencyStore(StorageFixture.NewTables(), vault, clock);
        var secret = Created with { Body = """{"secret":"whsec_first"}""", HoldsSecret = true };
        var first = await onVault.ClaimAsync("acc_a", "k7", "fp", CancellationToken.None);
        await onVault.CompleteAsync(first, secret, CancellationToken.None);

        clock.Advance(TableIdempotencyStore.Lifetime + TimeSpan.FromMinutes(1));
        var reuse = await onVault.ClaimAsync("acc_a", "k7", "fp", CancellationToken.None);
        var second = secret with { Body = """{"secret":"whsec_second"}""" };
        await onVault.CompleteAsync(reuse, second, CancellationToken.None);
        var replay = await onVault.ClaimAsync("acc_a", "k7", "fp", CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(reuse.Outcome, Is.EqualTo(IdempotencyOutcome.Claimed));
            Assert.That(vault.Deleted, Has.Count.EqualTo(1), "the expired answer's secret went with it");
            Assert.That(replay.Response!.Body, Is.EqualTo(second.Body));
        });
    }

    [Test]
    public async Task CompleteAsync_KeyTakenOverWhileTheRequestRan_DoesNotFailAndKeepsTheNewRequestsClaim()
    {
        var slow = await store.ClaimAsync("acc_a", "k8", "fp", CancellationToken.None);
        clock.Advance(TableIdempotencyStore.Lease + TimeSpan.FromSeconds(1));
        var retry = await store.ClaimAsync("acc_a", "k8", "fp", CancellationToken.None);

        Assert.DoesNotThrowAsync(() => store.CompleteAsync(slow, Created with { Body = "slow" }, CancellationToken.None));
        await store.CompleteAsync(retry, Created, CancellationToken.None);
        var replay = await store.ClaimAsync("acc_a", "k8", "fp", CancellationToken.None);

        Assert.That(replay.Response!.Body, Is.EqualTo(Created.Body));
    }

    [Test]
    public async Task ForgetAsync_AnswerNamingTheWebhook_IsForgottenWithItsSecretAndOthersStay()
    {
        var webhook = await store.ClaimAsync("acc_a", "k9", "fp", CancellationToken.None);
        await store.CompleteAsync(webhook, new StoredResponse(201, "application/json", """{"secret":"whsec_x"}""",
            new Dictionary<string, string> { ["Location"] = "/api/v1/webhooks/whk_abc" }, true), CancellationToken.None);
        var run = await store.ClaimAsync("acc_a", "k10", "fp", CancellationToken.None);
        await store.CompleteAsync(run, Created, CancellationToken.None);

        await store.ForgetAsync("acc_a", "whk_abc", CancellationToken.None);
        var webhookAgain = await store.ClaimAsync("acc_a", "k9", "fp", CancellationToken.None);
        var runAgain = await store.ClaimAsync("acc_a", "k10", "fp", CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(webhookAgain.Outcome, Is.EqualTo(IdempotencyOutcome.Claimed), "forgotten: the key is free");
            Assert.That(runAgain.Outcome, Is.EqualTo(IdempotencyOutcome.Replay));
        });
    }

    /// <summary>
    /// A secret store that behaves as Key Vault with soft delete does: a deleted secret's name stays taken, and setting
    /// a secret under it is refused (409). No emulator of Key Vault runs here, so this fault cannot be produced otherwise.
    /// </summary>
    sealed class SoftDeletingSecrets : ISecretStore
    {
        readonly Dictionary<string, string> live = [];

        public List<string> Deleted { get; } = [];

        public Task SetAsync(string name, string value, CancellationToken cancellationToken)
        {
            if (Deleted.Contains(name))
            {
                throw new Azure.RequestFailedException(409, $"Secret {name} is currently in a deleted but recoverable state.");
            }

            live[name] = value;
            return Task.CompletedTask;
        }

        public Task<string?> GetAsync(string name, CancellationToken cancellationToken) => Task.FromResult(live.GetValueOrDefault(name));

        public Task DeleteAsync(string name, CancellationToken cancellationToken)
        {
            if (live.Remove(name))
            {
                Deleted.Add(name);
            }

            return Task.CompletedTask;
        }
    }
}
