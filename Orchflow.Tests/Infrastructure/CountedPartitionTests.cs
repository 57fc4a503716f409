using Azure.Data.Tables;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>
/// A partition of items counted by a guard row, on Azurite: concurrent adds never pass the limit, a delete counts out
/// exactly once, a partition from before the guard is counted from its rows, and the guard is never taken for an item.
/// </summary>
[TestFixture]
public sealed class CountedPartitionTests
{
    OrchflowTables tables = null!;
    string partitionKey = null!;

    [SetUp]
    public async Task NewPartitionAsync()
    {
        tables = StorageFixture.NewTables();
        await tables.EnsureCreatedAsync();
        partitionKey = "acc_" + Guid.NewGuid().ToString("N");
    }

    CountedPartition Partition() => new(tables.Webhooks, partitionKey);

    TableEntity Item(string? key = null) => new(partitionKey, key ?? "whk_" + Guid.NewGuid().ToString("N")) { ["Url"] = "https://example.com" };

    async Task<int?> GuardAsync()
    {
        var guard = await tables.Webhooks.GetEntityIfExistsAsync<TableEntity>(partitionKey, CountedPartition.GuardKey);
        return guard.HasValue ? guard.Value!.GetInt32("Count") : null;
    }

    [Test]
    public async Task TryAddAsync_TwentyAtOnceWithRoomForOne_ExactlyOneLands()
    {
        for (var i = 0; i < 9; i++)
        {
            Assert.That((await Partition().TryAddAsync(Item(), 10, CancellationToken.None)).Added, Is.True);
        }

        var adds = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Partition().TryAddAsync(Item(), 10, CancellationToken.None)));

        Assert.Multiple(async () =>
        {
            Assert.That(adds.Count(a => a.Added), Is.EqualTo(1));
            Assert.That(adds.Where(a => !a.Added).Select(a => a.Outcome), Is.All.EqualTo(CountedAddOutcome.Full));
            Assert.That(await Partition().ItemsAsync(CancellationToken.None), Has.Count.EqualTo(10));
            Assert.That(await GuardAsync(), Is.EqualTo(10));
        });
    }

    [Test]
    public async Task TryAddAsync_TwentyAtOnceWithRoomForAll_EveryOneLandsAndIsCountedOnce()
    {
        var adds = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Partition().TryAddAsync(Item(), 100, CancellationToken.None)));

        Assert.Multiple(async () =>
        {
            Assert.That(adds.Count(a => a.Added), Is.EqualTo(20));
            Assert.That(await Partition().ItemsAsync(CancellationToken.None), Has.Count.EqualTo(20));
            Assert.That(await GuardAsync(), Is.EqualTo(20));
        });
    }

    [Test]
    public async Task TryAddAsync_KeyAlreadyThere_ReportsItAndCountsNothing()
    {
        await Partition().TryAddAsync(Item("whk_same"), 10, CancellationToken.None);

        var again = await Partition().TryAddAsync(Item("whk_same"), 10, CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(again.Outcome, Is.EqualTo(CountedAddOutcome.Exists));
            Assert.That(await GuardAsync(), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task DeleteAsync_OneItem_CountsItOutAndMakesRoomForExactlyOne()
    {
        var keys = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var item = Item();
            keys.Add(item.RowKey);
            await Partition().TryAddAsync(item, 3, CancellationToken.None);
        }

        Assert.That(await Partition().DeleteAsync(keys[0], null, CancellationToken.None), Is.True);
        var adds = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Partition().TryAddAsync(Item(), 3, CancellationToken.None)));

        Assert.Multiple(async () =>
        {
            Assert.That(adds.Count(a => a.Added), Is.EqualTo(1));
            Assert.That(await GuardAsync(), Is.EqualTo(3));
        });
    }

    [Test]
    public async Task DeleteAsync_MissingItem_ReturnsFalseAndChangesNothing()
    {
        await Partition().TryAddAsync(Item(), 10, CancellationToken.None);

        var deleted = await Partition().DeleteAsync("whk_missing", null, CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(deleted, Is.False);
            Assert.That(await GuardAsync(), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task DeleteAsync_SameItemTenTimesAtOnce_CountsItOutOnce()
    {
        var item = Item();
        await Partition().TryAddAsync(item, 10, CancellationToken.None);
        await Partition().TryAddAsync(Item(), 10, CancellationToken.None);

        var deletes = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Partition().DeleteAsync(item.RowKey, null, CancellationToken.None)));

        Assert.Multiple(async () =>
        {
            Assert.That(deletes.Count(d => d), Is.EqualTo(1));
            Assert.That(await GuardAsync(), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task DeleteAsync_TheGuardsKey_DeletesNothing()
    {
        await Partition().TryAddAsync(Item(), 10, CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(await Partition().DeleteAsync(CountedPartition.GuardKey, null, CancellationToken.None), Is.False);
            Assert.That(await GuardAsync(), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task TryAddAsync_PartitionFromBeforeTheGuard_CountsItsRowsOnceAndHoldsTheLimit()
    {
        for (var i = 0; i < 4; i++)
        {
            await tables.Webhooks.AddEntityAsync(Item());
        }

        var adds = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Partition().TryAddAsync(Item(), 5, CancellationToken.None)));

        Assert.Multiple(async () =>
        {
            Assert.That(adds.Count(a => a.Added), Is.EqualTo(1));
            Assert.That(await Partition().ItemsAsync(CancellationToken.None), Has.Count.EqualTo(5));
            Assert.That(await GuardAsync(), Is.EqualTo(5));
        });
    }

    [Test]
    public async Task DeleteAsync_PartitionFromBeforeTheGuard_CountsWhatIsLeft()
    {
        var first = Item();
        await tables.Webhooks.AddEntityAsync(first);
        await tables.Webhooks.AddEntityAsync(Item());
        await tables.Webhooks.AddEntityAsync(Item());

        Assert.That(await Partition().DeleteAsync(first.RowKey, null, CancellationToken.None), Is.True);

        Assert.Multiple(async () =>
        {
            Assert.That(await GuardAsync(), Is.EqualTo(2));
            Assert.That(await Partition().CountAsync(CancellationToken.None), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task ItemsAsync_WithTheGuard_ListsTheItemsOnly()
    {
        var item = Item();
        await Partition().TryAddAsync(item, 10, CancellationToken.None);

        var items = await Partition().ItemsAsync(CancellationToken.None);

        Assert.That(items.Select(i => i.RowKey), Is.EqualTo(new[] { item.RowKey }));
    }

    [Test]
    public async Task EraseAsync_ItemsAndGuard_LeavesNoRow()
    {
        await Partition().TryAddAsync(Item(), 10, CancellationToken.None);
        await Partition().TryAddAsync(Item(), 10, CancellationToken.None);

        await Partition().EraseAsync(CancellationToken.None);

        var left = new List<string>();
        await foreach (var row in tables.Webhooks.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}")))
        {
            left.Add(row.RowKey);
        }

        Assert.That(left, Is.Empty);
    }
}
