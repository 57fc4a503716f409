namespace Orchflow.Infrastructure.Network;

/// <summary>Which URLs a user may register for Orchflow to call (a provider, a webhook, a tool server): the address policy, in words.</summary>
public static class OutboundUrls
{
    /// <summary>
    /// Why <paramref name="url"/> cannot be registered in <paramref name="field"/>, if it cannot: https only (http to a
    /// loopback address in Development, for <paramref name="localUse"/>), no credentials in it (where they go instead:
    /// <paramref name="credentialsInstead"/>), and no address written out that <paramref name="policy"/> refuses. A
    /// name that resolves inward is refused when a call connects.
    /// </summary>
    public static string? Problem(string field, string url, AddressPolicy policy, string localUse, string credentialsInstead)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.IdnHost.Length == 0)
        {
            return $"'{field}' must be an absolute https URL.";
        }

        if (uri.UserInfo.Length > 0)
        {
            return $"'{field}' must not hold credentials (user:password@); {credentialsInstead}.";
        }

        if (uri.Scheme == "http" && !(policy.IsDevelopment && AddressPolicy.IsLoopback(uri)))
        {
            return policy.IsDevelopment
                ? $"'{field}' must use https; http is accepted only for a loopback address ({localUse})."
                : $"'{field}' must use https.";
        }

        if (policy.LiteralRefusal(uri) is { } range)
        {
            return range.AlwaysDenied
                ? $"'{field}' points at a private or local address ({uri.Host}: {range}), which Orchflow never calls; use a public URL."
                : $"'{field}' points at a private or local address ({uri.Host}: {range}), which this deployment does not call " +
                  $"(the operator may allow a range in {AddressPolicy.Setting}); use a public URL.";
        }

        return null;
    }
}
