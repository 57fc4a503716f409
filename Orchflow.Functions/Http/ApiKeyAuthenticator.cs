using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Memory;
using Orchflow.Abstractions;
using Orchflow.Accounts;

namespace Orchflow.Functions.Http;

/// <summary>
/// Resolves the X-API-Key header to an account, once per request, for either host. Keys found are remembered for a
/// minute by their hash, so a client polling a run costs one storage read per poll instead of two; unknown keys
/// are never remembered, so a key works the moment its account is registered.
/// </summary>
public sealed class ApiKeyAuthenticator(IAccountStore accounts, ApiKeys keys) : IDisposable
{
    public const string Header = "X-API-Key";
    const string ItemKey = "orchflow.caller";
    const string HashItemKey = "orchflow.caller.key";

    /// <summary>How long a known key is trusted without a read; the most a key's revocation would take to apply.</summary>
    static readonly TimeSpan RememberFor = TimeSpan.FromMinutes(1);

    readonly MemoryCache known = new(new MemoryCacheOptions { SizeLimit = 10_000 });

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
        if (!known.TryGetValue(hash, out Account? account))
        {
            account = await accounts.FindByKeyHashAsync(hash, http.RequestAborted);
            if (account is null)
            {
                return Problems.Unauthorized("This API key is not valid.");
            }

            known.Set(hash, account, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = RememberFor });
        }

        http.Items[ItemKey] = account;
        http.Items[HashItemKey] = hash;
        return null;
    }

    public void Dispose() => known.Dispose();

    /// <summary>The account the request was authenticated as (its trial count may be a minute old: read the store for that).</summary>
    /// <summary>The keyed hash of the API key the request was authenticated with: what names its rate limit bucket.</summary>
    public static string KeyHashOf(HttpRequest request) =>
        request.HttpContext.Items[HashItemKey] as string
        ?? throw new InvalidOperationException("The request reached a protected function without authentication.");

    public static Account CallerOf(HttpRequest request) =>
        request.HttpContext.Items[ItemKey] as Account
        ?? throw new InvalidOperationException("The request reached a protected function without authentication.");
}
