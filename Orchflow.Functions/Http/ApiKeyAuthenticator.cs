using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Memory;
using Orchflow.Abstractions;
using Orchflow.Accounts;
using Orchflow.Functions.Http.RateLimiting;
using Orchflow.Telemetry;

namespace Orchflow.Functions.Http;

/// <summary>
/// Resolves the X-API-Key header to an account, once per request, for either host. A key found is remembered for
/// <see cref="RememberFor"/> from the moment its read began, so a client polling a run costs about one storage read per
/// poll instead of two, and a key revoked on any instance is refused by every instance within that time (at once on the
/// instance that revoked it). A key found unknown is remembered as such for <see cref="RememberMissFor"/>: keys are made
/// here at random, so none can be tried before it is issued, and a client retrying a revoked or mistyped key costs no
/// read. An address sending many unknown keys is refused before they are looked up (<see cref="FailedAuthentications"/>),
/// except for keys that worked here within <see cref="VouchFor"/>.
/// </summary>
public sealed class ApiKeyAuthenticator(
    IApiKeyStore keyStore, ApiKeys keys, FailedAuthentications failures, ClientAddresses addresses, TimeProvider clock) : IDisposable
{
    public const string Header = "X-API-Key";
    const string ItemKey = "orchflow.caller";
    const string HashItemKey = "orchflow.caller.key";
    const string KeyIdItemKey = "orchflow.caller.key_id";
    const int Capacity = 10_000;

    /// <summary>The name failed-authentication refusals are counted under in telemetry.</summary>
    const string FailedAuthPolicy = "failed-auth";

    /// <summary>How long a known key is trusted without a read: the longest a revocation takes to reach another instance.</summary>
    public static readonly TimeSpan RememberFor = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a key that worked is still vouched for after its last use: not trusted without a read after
    /// <see cref="RememberFor"/>, but read even from an address refused for sending unknown keys.
    /// </summary>
    public static readonly TimeSpan VouchFor = TimeSpan.FromMinutes(10);

    /// <summary>How long a key found unknown is refused without another read.</summary>
    public static readonly TimeSpan RememberMissFor = TimeSpan.FromMinutes(1);

    /// <summary>How often a key's <c>last_used_at</c> is written by one instance: it is exact to about this.</summary>
    public static readonly TimeSpan TouchEvery = TimeSpan.FromMinutes(1);

    readonly MemoryCache known = new(new MemoryCacheOptions { SizeLimit = Capacity, Clock = new CacheClock(clock) });
    readonly MemoryCache unknown = new(new MemoryCacheOptions { SizeLimit = Capacity, Clock = new CacheClock(clock) });
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
            return Failed(http, Problems.Unauthorized($"The {source} header does not hold an Orchflow API key (orch_…)."));
        }

        var hash = keys.Hash(key);
        var wasKnown = known.TryGetValue(hash, out Remembered? remembered);
        var holder = wasKnown && remembered!.Until > clock.GetUtcNow() ? remembered!.Holder : null;
        if (holder is null)
        {
            if (unknown.TryGetValue(hash, out _))
            {
                return Failed(http, NotValid());
            }

            // A key that worked here lately is read again whatever its address has sent.
            if (!wasKnown && failures.IsBlocked(addresses.Of(http)))
            {
                OrchflowTelemetry.RateLimited(FailedAuthPolicy);
                return Problems.TooManyFailedAuthentications(FailedAuthentications.Step);
            }

            // Trusted until RememberFor after the read began, not after it ended: a revocation landing during the read
            // is still refused by this instance within RememberFor of it.
            var readAt = clock.GetUtcNow();
            holder = await keyStore.FindAsync(hash, http.RequestAborted);
            if (holder is null)
            {
                known.Remove(hash);
                unknown.Set(hash, true, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = RememberMissFor });
                return Failed(http, NotValid());
            }

            known.Set(hash, new Remembered(holder, readAt + RememberFor), new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = VouchFor });
        }

        await TouchAsync(holder);
        Admit(http, holder.Account);
        http.Items[HashItemKey] = hash;
        http.Items[KeyIdItemKey] = holder.KeyId;
        return null;
    }

    static ApiResult NotValid() => Problems.Unauthorized("This API key is not valid.");

    /// <summary>Counts a refused key against the caller's address, and returns the refusal.</summary>
    ApiResult Failed(HttpContext http, ApiResult refusal)
    {
        failures.Failed(addresses.Of(http));
        return refusal;
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

    public void Dispose()
    {
        known.Dispose();
        unknown.Dispose();
    }

    /// <summary>The memory caches' clock, taken from this class's, so both agree on when an entry ends.</summary>
    sealed class CacheClock(TimeProvider clock) : Microsoft.Extensions.Internal.ISystemClock
    {
        public DateTimeOffset UtcNow => clock.GetUtcNow();
    }

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

    /// <summary>The request is the account's, as <see cref="CallerOf"/> says from here on.</summary>
    internal static void Admit(HttpContext http, Account account) => http.Items[ItemKey] = account;

    /// <summary>The account the request was authenticated as (its trial count may be seconds old: read the store for that).</summary>
    public static Account CallerOf(HttpRequest request) =>
        request.HttpContext.Items[ItemKey] as Account
        ?? throw new InvalidOperationException("The request reached a protected function without authentication.");
}
