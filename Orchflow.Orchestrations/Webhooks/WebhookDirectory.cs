using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;

namespace Orchflow.Webhooks;

/// <summary>
/// Each account's webhooks, kept in memory for <see cref="WebhookOptions.CacheSeconds"/>, so that writing a run's
/// events costs an account without webhooks no storage read at all, however busy its runs. Changes made in this
/// process take effect here at once; one made by another instance, within the cache time.
/// </summary>
public sealed class WebhookDirectory(IWebhookStore store, IOptions<WebhookOptions> options) : IDisposable
{
    readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = 100_000 });
    readonly TimeSpan keep = TimeSpan.FromSeconds(options.Value.CacheSeconds);

    public async Task<IReadOnlyList<WebhookRecord>> ForAccountAsync(string accountId, CancellationToken cancellationToken)
    {
        if (cache.TryGetValue(accountId, out Task<IReadOnlyList<WebhookRecord>>? cached) && cached is { IsFaulted: false, IsCanceled: false })
        {
            return await cached;
        }

        // The read itself is cached, so concurrent writers of one account wait on one read; a failed read is not kept.
        var read = store.ListAsync(accountId, CancellationToken.None);
        if (keep > TimeSpan.Zero)
        {
            _ = cache.Set(accountId, read, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = keep });
        }

        return await read.WaitAsync(cancellationToken);
    }

    /// <summary>The account's webhooks changed: read them again next time.</summary>
    public void Forget(string accountId) => cache.Remove(accountId);

    public void Dispose() => cache.Dispose();
}
