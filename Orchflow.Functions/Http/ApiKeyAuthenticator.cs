using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Memory;
using Orchflow.Abstractions;
using Orchflow.Accounts;

namespace Orchflow.Functions.Http;

/// <summary>
/// Resolves the X-API-Key header to an account, once per request, for either host. A key found is remembered for
/// <see cref="RememberFor"/> from the moment its read began, so a client polling a run costs about one storage read per
/// poll instead of two, and a key revoked on any instance is refused by every instance within that time (at once on the
/// instance that revoked it). Unknown keys are never remembered, so a key works the moment it is issued.
/// </summary>
public sealed class ApiKeyAuthenticator(IApiKeyStore keyStore, ApiKeys keys, TimeProvider clock) : IDisposable
{
    public const string Header = "X-API-Key";
    const string ItemKey = "orchflow.caller";
    const string HashItemKey = "orchflow.caller.key";
    const string KeyIdItemKey = "orchflow.caller.key_id";
    const int Capacity = 10_000;

    /// <summary>How long a known key is trusted without a read: the longest a revocation takes to reach another instance.</summary>
    public static readonly TimeSpan RememberFor = TimeSpan.FromSeconds(5);

    /// <summary>How often a key's <c>last_used_at</c> is written by one instance: it is exact to about this.</summary>
    public static readonly TimeSpan TouchEvery = TimeSpan.FromMinutes(1);

    readonly MemoryCache known = new(new MemoryCacheOptions { SizeLimit = Capacity });
    readonly ConcurrentDictionary<string, DateTimeOffset> touched = new(StringComparer.Ordinal);

    /// <summary>Authenticates the request; null when it may go on, else the 401 to send.</summary>
    public async Task<ApiResult?> AuthenticateAsync(HttpContext http)
    {
        var values = http.Request.Headers[Header];
        if (values.Count == 0 || string.IsNullOrWhiteSpace(values[0]))
        {
            return Problems.Unauthorized($"Send your API key in the {Header} header.");
        }

        if (values.Count > 1)
        {
            return Problems.Unauthorized($"The {Header} header does not hold an Orchflow API key (orch_…).");
        }

        return await AuthenticateKeyAsync(http, values[0]!.Trim(), Header);
    }

    /// <summary>
    /// Authenticates the request with <paramref name="key"/>, sent in <paramref name="source"/> (a header, or the setting
    /// that gave it); null when it may go on, else the 401 to send.
    /// </summary>
    public async Task<ApiResult?> AuthenticateKeyAsync(HttpContext http, string key, string source)
    {
        if (!ApiKeys.IsWellFormed(key))
        {
            return Problems.Unauthorized($"The {source} header does not hold an Orchflow API key (orch_…).");
        }

        var hash = keys.Hash(key);
        var holder = known.TryGetValue(hash, out Remembered? remembered) && remembered!.Until > clock.GetUtcNow() ? remembered.Holder : null;
        if (holder is null)
        {
            // Trusted until RememberFor after the read began, not after it ended: a revocation landing during the read
            // is still refused by this instance within RememberFor of it.
            var readAt = clock.GetUtcNow();
            holder = await keyStore.FindAsync(hash, http.RequestAborted);
            if (holder is null)
            {
                known.Remove(hash);
                return Problems.Unauthorized("This API key is not valid.");
            }

            known.Set(hash, new Remembered(holder, readAt + RememberFor), new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = RememberFor });
        }

        await TouchAsync(holder);
        http.Items[ItemKey] = holder.Account;
        http.Items[HashItemKey] = hash;
        http.Items[KeyIdItemKey] = holder.KeyId;
        return null;
    }

    /// <summary>Forgets a key at once (this instance revoked it); other instances forget it within <see cref="RememberFor"/>.</summary>
    public void Forget(string apiKeyHash) => known.Remove(apiKeyHash);

    /// <summary>Stamps the key's last use, at most once per <see cref="TouchEvery"/> on this instance.</summary>
    async Task TouchAsync(KeyHolder holder)
    {
        var now = clock.GetUtcNow();
        if (touched.TryGetValue(holder.KeyId, out var last) && now - last < TouchEvery)
        {
            return;
        }

        if (touched.Count >= Capacity)
        {
            touched.Clear();
        }

        touched[holder.KeyId] = now;
        await keyStore.TouchAsync(holder.Account.AccountId, holder.KeyId, now, CancellationToken.None);
    }

    public void Dispose() => known.Dispose();

    /// <summary>A key as read, and until when it is trusted without another read (by this class's clock).</summary>
    sealed record Remembered(KeyHolder Holder, DateTimeOffset Until);

    /// <summary>The keyed hash of the API key the request was authenticated with: what names its rate limit bucket.</summary>
    public static string KeyHashOf(HttpRequest request) =>
        request.HttpContext.Items[HashItemKey] as string
        ?? throw new InvalidOperationException("The request reached a protected function without authentication.");

    /// <summary>The id of the API key the request was authenticated with.</summary>
    public static string KeyIdOf(HttpRequest request) =>
        request.HttpContext.Items[KeyIdItemKey] as string
        ?? throw new InvalidOperationException("The request reached a protected function without authentication.");

    /// <summary>The account the request was authenticated as (its trial count may be seconds old: read the store for that).</summary>
    public static Account CallerOf(HttpRequest request) =>
        request.HttpContext.Items[ItemKey] as Account
        ?? throw new InvalidOperationException("The request reached a protected function without authentication.");
}
