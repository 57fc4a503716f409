using System.Collections.Concurrent;
using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// Active-run places on Table Storage: a counted partition per account in the Accounts table (PK <c>active~{account}</c>),
/// one row per attempt of a run that holds a place (RK <c>{run id}~{attempt}</c>) beside the guard that counts them
/// (<see cref="CountedPartition"/>). A place is given back when its run's change to completed, failed or cancelled has
/// been committed (<see cref="TableRunStore"/>); one left behind by a crash in between is found and given back when the
/// account is at its limit, by reading its run's status row, at most once every <see cref="SweepEvery"/> an account in
/// each process, so a start refused at the limit costs one read of the guard, not one more for each of the account's runs.
/// </summary>
public sealed class TableActiveRuns(OrchflowTables tables, TimeProvider clock) : IActiveRuns
{
    /// <summary>
    /// Between two looks at an account's places for ones left behind. Only a crash leaves one, so a start at the limit
    /// may wait this long for its place; the starts refused meanwhile read no run.
    /// </summary>
    internal static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(10);

    /// <summary>When each account's places were last looked at for ones left behind, by this process (a timestamp of the clock).</summary>
    readonly ConcurrentDictionary<string, long> swept = new(StringComparer.Ordinal);

    /// <summary>Accounts whose last look is remembered at most; past it, all are forgotten.</summary>
    const int MaxSweptAccounts = 10_000;

    /// <summary>
    /// Longer than a start or retry takes from its place to its run's first write: a place whose run is not (yet) at
    /// its attempt is given back at the limit only once it is this old, so a start under way keeps the place it took.
    /// </summary>
    internal static readonly TimeSpan StartGrace = TimeSpan.FromMinutes(2);

    const string PartitionPrefix = "active~";

    public static string Partition(string accountId) => PartitionPrefix + accountId;

    public async Task<ActiveRunPlace> TryTakeAsync(string accountId, string runId, int attempt, int max, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var places = Places(accountId);
        var place = Place(accountId, runId, attempt);
        var taken = await places.TryAddAsync(place, max, cancellationToken);

        // Another retry of this attempt may hold its place (its own, should it have taken the last one free, is all the
        // full partition says): it goes on, unless it gave up without giving the place back, which is then taken over.
        // A start's run id is new, so no other start holds its place.
        if (taken.Outcome == CountedAddOutcome.Exists || taken.Outcome == CountedAddOutcome.Full && attempt > 0)
        {
            switch (await ReleaseIfStaleAsync(accountId, place.RowKey, cancellationToken))
            {
                case HeldPlace.Held:
                    return new ActiveRunPlace(PlaceOutcome.HeldByAnother, taken.Count);
                case HeldPlace.Released:
                case HeldPlace.None when taken.Outcome == CountedAddOutcome.Exists:
                    // Taken over, or given back meanwhile: the add is tried again. A full partition without the place stays full.
                    taken = await places.TryAddAsync(place, max, cancellationToken);
                    break;
            }
        }

        // At the limit: places whose runs ended without giving them back are given back now, before anyone is refused.
        if (taken.Outcome == CountedAddOutcome.Full && SweepDue(accountId) && await ReleaseEndedAsync(accountId, cancellationToken) > 0)
        {
            taken = await places.TryAddAsync(place, max, cancellationToken);
        }

        return new ActiveRunPlace(taken.Outcome switch
        {
            CountedAddOutcome.Added => PlaceOutcome.Taken,
            CountedAddOutcome.Exists => PlaceOutcome.HeldByAnother,
            _ => PlaceOutcome.Full,
        }, taken.Count);
    }

    public async Task ReleaseUnlessActiveAsync(string accountId, string runId, int attempt, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        if (await StandingAsync(accountId, runId, cancellationToken) is not { } run || !run.IsActiveAt(attempt))
        {
            await ReleaseAsync(accountId, runId, attempt, cancellationToken);
        }
    }

    /// <summary>Gives back the place of the run's attempt; nothing changes when it holds none (given back before, or never taken).</summary>
    internal Task ReleaseAsync(string accountId, string runId, int attempt, CancellationToken cancellationToken) =>
        Places(accountId).DeleteAsync(PlaceKey(runId, attempt), null, cancellationToken);

    /// <summary>Whether the account's places are due a look for ones left behind; if so, the look is counted as made now.</summary>
    bool SweepDue(string accountId)
    {
        if (swept.TryGetValue(accountId, out var last) && clock.GetElapsedTime(last) < SweepEvery)
        {
            return false;
        }

        if (swept.Count >= MaxSweptAccounts)
        {
            // Forgetting when accounts were looked at costs each of them one look too many at worst.
            swept.Clear();
        }

        swept[accountId] = clock.GetTimestamp();
        return true;
    }

    /// <summary>Gives back every place whose run has ended or moved past its attempt; how many it gave back.</summary>
    async Task<int> ReleaseEndedAsync(string accountId, CancellationToken cancellationToken)
    {
        var places = Places(accountId);
        var released = 0;
        foreach (var place in await places.ItemsAsync(cancellationToken))
        {
            if (await IsStaleAsync(accountId, place, cancellationToken) && await places.DeleteAsync(place.RowKey, place.ETag, cancellationToken))
            {
                released++;
            }
        }

        return released;
    }

    /// <summary>Gives back the place under <paramref name="placeKey"/> if it is stale; what was found there.</summary>
    async Task<HeldPlace> ReleaseIfStaleAsync(string accountId, string placeKey, CancellationToken cancellationToken)
    {
        var found = await tables.Accounts.GetEntityIfExistsAsync<TableEntity>(Partition(accountId), placeKey, cancellationToken: cancellationToken);
        if (!found.HasValue || found.Value is not { } place)
        {
            return HeldPlace.None;
        }

        return await IsStaleAsync(accountId, place, cancellationToken) && await Places(accountId).DeleteAsync(placeKey, place.ETag, cancellationToken)
            ? HeldPlace.Released
            : HeldPlace.Held;
    }

    enum HeldPlace
    {
        /// <summary>No place under the key.</summary>
        None,

        /// <summary>A stale place, given back now.</summary>
        Released,

        /// <summary>A place its start or retry still holds.</summary>
        Held,
    }

    /// <summary>
    /// Whether a place is held by nothing any more: its run has ended at its attempt or moved past it, or no run is at
    /// its attempt and the start or retry that took it has had longer than <see cref="StartGrace"/> to get there.
    /// </summary>
    async Task<bool> IsStaleAsync(string accountId, TableEntity place, CancellationToken cancellationToken)
    {
        var attempt = place.GetInt32("Attempt") ?? 0;
        var settled = clock.GetUtcNow() - (place.GetDateTimeOffset("TakenAt") ?? DateTimeOffset.MinValue) >= StartGrace;
        return await StandingAsync(accountId, place.GetString("RunId") ?? "", cancellationToken) switch
        {
            { } r when r.Attempt > attempt => true,
            { } r when r.Attempt == attempt => r.Status.IsTerminal(),
            // No such run yet, or not yet retried: a start or retry under way, or one that gave up without its place.
            _ => settled,
        };
    }

    /// <summary>Where the account's run stands, from its status row (one point read); null when the account has no such run.</summary>
    async Task<Standing?> StandingAsync(string accountId, string runId, CancellationToken cancellationToken)
    {
        var row = await tables.RunTasks.GetEntityIfExistsAsync<TableEntity>(runId, RunRows.Status, select: ["AccountId", "Status", "Attempt"],
            cancellationToken: cancellationToken);
        return row.HasValue && row.Value is { } status && status.GetString("AccountId") == accountId
            ? new Standing(WireNames.Parse<RunStatus>(status.GetString("Status")), status.GetInt32("Attempt") ?? 0)
            : null;
    }

    CountedPartition Places(string accountId) => new(tables.Accounts, Partition(accountId));

    TableEntity Place(string accountId, string runId, int attempt) => new(Partition(accountId), PlaceKey(runId, attempt))
    {
        ["RunId"] = runId,
        ["Attempt"] = attempt,
        ["TakenAt"] = clock.GetUtcNow(),
    };

    static string PlaceKey(string runId, int attempt) => $"{runId}~{attempt:D4}";

    readonly record struct Standing(RunStatus Status, int Attempt)
    {
        public bool IsActiveAt(int attempt) => Attempt == attempt && !Status.IsTerminal();
    }
}
