using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Orchestrators;
using Orchflow.Webhooks;

namespace Orchflow.Erasure;

/// <summary>
/// Erases runs and accounts, for both hosts: a run purged by its owner, a run past retention, an account closed.
/// Each erasure is first recorded as pending (<see cref="IErasureStore"/>), then done by passes that delete whatever is
/// still there and may be repeated any number of times: a pass cut short (a crash, storage failing, an orchestration
/// not yet ended) leaves the record, and the next pass of <see cref="SweepAsync"/> finishes the work. The record goes
/// only once a pass found the work complete.
/// </summary>
public sealed class DataEraser(
    IErasureStore erasures,
    IAccountStore accounts,
    IRunStore runs,
    IApiKeyStore keys,
    IProviderStore providers,
    IWebhookStore webhooks,
    IToolServerStore toolServers,
    IIdempotencyStore idempotency,
    IRateLimitStore rateLimits,
    ISecretStore secrets,
    WebhookDirectory directory,
    ErasureSignal signal,
    IOptions<RetentionOptions> options,
    TimeProvider clock,
    ILogger<DataEraser> log)
{
    /// <summary>
    /// Longer than another instance trusts a key it read (5 s) and than a request of it takes to write: an account's
    /// erasure is complete only after a pass begun this long after it was asked for, so what such a request wrote is gone.
    /// </summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(15);

    /// <summary>The longest wait between two searches for runs past retention (each reads the whole listing table).</summary>
    static readonly TimeSpan LongestRetentionWait = TimeSpan.FromHours(1);

    DateTimeOffset nextRetentionSearch = DateTimeOffset.MinValue;

    /// <summary>
    /// Asks for the run to be erased and makes the first pass now: it is cancelled, its rows go (it answers 404 from here
    /// on), and its history goes now if its orchestration has ended, else in a later pass. Null when the account has no such run.
    /// </summary>
    public async Task<RunRecord?> PurgeRunAsync(DurableTaskClient durable, string accountId, string runId, CancellationToken cancellationToken)
    {
        var run = await runs.GetAsync(accountId, runId, cancellationToken);
        if (run is null)
        {
            return null;
        }

        var request = new ErasureRequest(accountId, runId, clock.GetUtcNow(), run.Attempt);
        await erasures.RequestAsync(request, cancellationToken);
        await PassAsync(durable, request, cancellationToken);
        signal.Wake();
        return run;
    }

    /// <summary>
    /// Asks for the account to be erased and revokes its keys now (this process forgets them at once through the hashes
    /// returned); a sweep does the rest.
    /// </summary>
    public async Task<IReadOnlyList<string>> CloseAccountAsync(string accountId, CancellationToken cancellationToken)
    {
        await erasures.RequestAsync(new ErasureRequest(accountId, null, clock.GetUtcNow()), cancellationToken);
        // Closed first: a key another instance issued meanwhile is refused too, whichever rows of it are left.
        await accounts.CloseAsync(accountId, cancellationToken);
        var hashes = await keys.RevokeAllAsync(accountId, cancellationToken);
        signal.Wake();
        return hashes;
    }

    /// <summary>
    /// One sweep: a pass over every pending erasure (runs first, so an account's runs are done before the account), then
    /// the runs past retention. True when erasures are still pending afterwards.
    /// </summary>
    public async Task<bool> SweepAsync(DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var started = clock.GetUtcNow();
        foreach (var request in (await erasures.PendingAsync(cancellationToken)).OrderBy(r => r.IsAccount))
        {
            await PassAsync(durable, request, cancellationToken);
        }

        if (started >= nextRetentionSearch)
        {
            await ApplyRetentionAsync(durable, started, cancellationToken);
        }

        return (await erasures.PendingAsync(cancellationToken)).Count > 0;
    }

    /// <summary>
    /// Erases the runs that ended longer ago than retention keeps them. The search reads the whole listing table, so it
    /// is made a tenth of the retention period apart (at most an hour, at least a sweep): a run is erased at most that
    /// much later than it could be. A full page of runs found means more are waiting: the next sweep searches again.
    /// </summary>
    async Task ApplyRetentionAsync(DurableTaskClient durable, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var age = options.Value.EndedRunAge;
        var cutoff = now - age;
        var ended = await erasures.EndedBeforeAsync(cutoff, options.Value.MaxRunsPerSweep, cancellationToken);
        foreach (var run in ended)
        {
            var request = new ErasureRequest(run.AccountId, run.RunId, now);
            await erasures.RequestAsync(request, cancellationToken);
            await PassAsync(durable, request, cancellationToken);
            log.LogInformation("Run {RunId} of account {AccountId} ended before {Cutoff} and is erased", run.RunId, run.AccountId, cutoff);
        }

        var wait = TimeSpan.FromTicks(Math.Min(age.Ticks / 10, LongestRetentionWait.Ticks));
        nextRetentionSearch = ended.Count >= options.Value.MaxRunsPerSweep ? now : now + wait;
    }

    /// <summary>One pass over one erasure; its failure is logged and left for the next pass, never the others' concern.</summary>
    async Task PassAsync(DurableTaskClient durable, ErasureRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var complete = request.IsAccount
                ? await EraseAccountAsync(durable, request, cancellationToken)
                : await EraseRunAsync(durable, request, cancellationToken);
            if (complete)
            {
                await erasures.DoneAsync(request, cancellationToken);
                log.LogInformation("Erased {What} of account {AccountId}", request.RunId ?? "the account", request.AccountId);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            log.LogWarning(e, "Erasing {What} of account {AccountId} was cut short; the next pass goes on", request.RunId ?? "the account",
                request.AccountId);
        }
    }

    /// <summary>Cancels the run, ends and purges each attempt's orchestration, deletes its rows; true when nothing is left.</summary>
    async Task<bool> EraseRunAsync(DurableTaskClient durable, ErasureRequest request, CancellationToken cancellationToken)
    {
        var runId = request.RunId!;
        // Cancelled first, so nothing it would still start starts; a run already ended stays as it ended.
        var change = await runs.ChangeAsync(request.AccountId, runId, (run, now) => RunTransitions.Cancel(run, now), cancellationToken);
        var attempts = Math.Max(request.Attempts, change?.Run.Attempt ?? 0);
        if (attempts > request.Attempts)
        {
            await erasures.RequestAsync(request with { Attempts = attempts }, cancellationToken);
        }

        var historyGone = true;
        for (var attempt = 0; attempt <= attempts; attempt++)
        {
            historyGone &= await EndHistoryAsync(durable, RunInput.InstanceOf(runId, attempt), cancellationToken);
        }

        var hooks = (await webhooks.ListAsync(request.AccountId, cancellationToken)).Select(w => w.WebhookId).ToList();
        await erasures.EraseRunRowsAsync(request.AccountId, runId, hooks, cancellationToken);
        await idempotency.ForgetAsync(request.AccountId, runId, cancellationToken);
        return historyGone;
    }

    /// <summary>
    /// Purges an orchestration's history once it has ended; one still going is terminated (it ends on its next turn)
    /// and purged by a later pass. True when no history is left.
    /// </summary>
    static async Task<bool> EndHistoryAsync(DurableTaskClient durable, string instanceId, CancellationToken cancellationToken)
    {
        var instance = await durable.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken);
        if (instance is null)
        {
            return true;
        }

        if (!instance.IsCompleted)
        {
            await durable.TerminateInstanceAsync(instanceId, "The run is being erased.", cancellationToken);
            return false;
        }

        await durable.PurgeInstanceAsync(instanceId, cancellationToken);
        return true;
    }

    /// <summary>
    /// Everything the account owns, each kind through the store that owns it, secrets before the rows that name them; its
    /// own rows last. True when complete: its runs all erased and this pass begun <see cref="Settle"/> after the request.
    /// </summary>
    async Task<bool> EraseAccountAsync(DurableTaskClient durable, ErasureRequest request, CancellationToken cancellationToken)
    {
        var began = clock.GetUtcNow();
        var accountId = request.AccountId;
        foreach (var runId in await erasures.RunIdsAsync(accountId, cancellationToken))
        {
            // Each run an erasure of its own: its history may outlive its rows by a pass, and its record keeps track of it.
            var run = new ErasureRequest(accountId, runId, began);
            await erasures.RequestAsync(run, cancellationToken);
            await PassAsync(durable, run, cancellationToken);
        }

        foreach (var provider in await providers.ListAsync(accountId, cancellationToken))
        {
            await secrets.DeleteAsync(provider.SecretName, cancellationToken);
            await providers.DeleteAsync(accountId, provider.ProviderId, cancellationToken);
        }

        foreach (var webhook in await webhooks.ListAsync(accountId, cancellationToken))
        {
            // The row (and its deliveries) first: once it is gone nothing signs with its secrets.
            await webhooks.DeleteAsync(accountId, webhook.WebhookId, cancellationToken);
            foreach (var name in new[] { webhook.SecretName, webhook.PreviousSecretName }.OfType<string>())
            {
                await secrets.DeleteAsync(name, cancellationToken);
            }
        }

        directory.Forget(accountId);
        foreach (var server in await toolServers.ListAsync(accountId, cancellationToken))
        {
            await toolServers.DeleteAsync(accountId, server.ServerId, cancellationToken);
            if (server.SecretName is { } name)
            {
                await secrets.DeleteAsync(name, cancellationToken);
            }
        }

        await idempotency.ForgetAllAsync(accountId, cancellationToken);
        foreach (var hash in await keys.RevokeAllAsync(accountId, cancellationToken))
        {
            await rateLimits.ForgetAsync(RateLimitBuckets.OfKey(hash), cancellationToken);
        }

        var runsLeft = (await erasures.PendingAsync(cancellationToken)).Any(r => r.AccountId == accountId && !r.IsAccount);
        if (runsLeft || began - request.RequestedAt < Settle)
        {
            return false;
        }

        await erasures.EraseAccountRowsAsync(accountId, cancellationToken);
        return true;
    }
}
