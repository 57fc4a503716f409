using Orchflow.Infrastructure.Network;

namespace Orchflow.Webhooks;

/// <summary>Which URLs a webhook may be registered with.</summary>
public static class WebhookTargets
{
    public const int MaxUrlLength = 2000;

    /// <summary>
    /// Why <paramref name="url"/> cannot be a webhook, if it cannot: https only (http to loopback where private
    /// targets are allowed, for a receiver on a developer's machine), no credentials, and no private or local address
    /// written out unless allowed. A name that resolves inward is refused when a delivery connects.
    /// </summary>
    public static string? Problem(string url, bool allowPrivateTargets)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.IdnHost.Length == 0)
        {
            return "'url' must be an absolute https URL.";
        }

        if (uri.UserInfo.Length > 0)
        {
            return "'url' must not hold credentials (user:password@); check the signature of each delivery instead.";
        }

        if (uri.Scheme == "http" && !(allowPrivateTargets && uri.IsLoopback))
        {
            return allowPrivateTargets
                ? "'url' must use https; http is accepted only for a loopback address (a receiver on this machine)."
                : "'url' must use https.";
        }

        if (!allowPrivateTargets && PrivateAddresses.IsLiteralPrivate(uri))
        {
            return $"'url' points at a private or local address ({uri.Host}), which this deployment does not call; use a public URL.";
        }

        return null;
    }
}
