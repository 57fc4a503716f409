using Microsoft.AspNetCore.Http;
using Orchflow.Abstractions;
using Orchflow.Accounts;

namespace Orchflow.Functions.Http;

/// <summary>Resolves the X-API-Key header to an account, once per request, for either host.</summary>
public sealed class ApiKeyAuthenticator(IAccountStore accounts, ApiKeys keys)
{
    public const string Header = "X-API-Key";
    const string ItemKey = "orchflow.caller";

    /// <summary>Authenticates the request; null when it may go on, else the 401 to send.</summary>
    public async Task<ApiResult?> AuthenticateAsync(HttpContext http)
    {
        var values = http.Request.Headers[Header];
        if (values.Count == 0 || string.IsNullOrWhiteSpace(values[0]))
        {
            return Problems.Unauthorized($"Send your API key in the {Header} header.");
        }

        var key = values[0]!.Trim();
        if (values.Count > 1 || !ApiKeys.IsWellFormed(key))
        {
            return Problems.Unauthorized($"The {Header} header does not hold an Orchflow API key (orch_…).");
        }

        var account = await accounts.FindByKeyHashAsync(keys.Hash(key), http.RequestAborted);
        if (account is null)
        {
            return Problems.Unauthorized("This API key is not valid.");
        }

        http.Items[ItemKey] = account;
        return null;
    }

    /// <summary>The account the request was authenticated as.</summary>
    public static Account CallerOf(HttpRequest request) =>
        request.HttpContext.Items[ItemKey] as Account
        ?? throw new InvalidOperationException("The request reached a protected function without authentication.");
}
