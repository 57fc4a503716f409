namespace Orchflow.Infrastructure.Network;

/// <summary>Which URLs a user may register for Orchflow to call (a webhook, a tool server): the address policy, in words.</summary>
public static class OutboundUrls
{
    /// <summary>
    /// Why <paramref name="url"/> cannot be registered in <paramref name="field"/>, if it cannot: https only (http to
    /// loopback where private targets are allowed, for <paramref name="localUse"/>), no credentials in it (where they
    /// go instead: <paramref name="credentialsInstead"/>), and no private or local address written out unless allowed.
    /// A name that resolves inward is refused when a call connects.
    /// </summary>
    public static string? Problem(string field, string url, bool allowPrivateTargets, string localUse, string credentialsInstead)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.IdnHost.Length == 0)
        {
            return $"'{field}' must be an absolute https URL.";
        }

        if (uri.UserInfo.Length > 0)
        {
            return $"'{field}' must not hold credentials (user:password@); {credentialsInstead}.";
        }

        if (uri.Scheme == "http" && !(allowPrivateTargets && uri.IsLoopback))
        {
            return allowPrivateTargets
                ? $"'{field}' must use https; http is accepted only for a loopback address ({localUse})."
                : $"'{field}' must use https.";
        }

        if (!allowPrivateTargets && PrivateAddresses.IsLiteralPrivate(uri))
        {
            return $"'{field}' points at a private or local address ({uri.Host}), which this deployment does not call; use a public URL.";
        }

        return null;
    }
}
