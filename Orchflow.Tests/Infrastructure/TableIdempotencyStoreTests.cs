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
}
