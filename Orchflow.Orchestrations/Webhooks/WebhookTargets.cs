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
    public static string? Problem(string url, bool allowPrivateTargets) =>
        OutboundUrls.Problem("url", url, allowPrivateTargets, "a receiver on this machine", "check the signature of each delivery instead");
}
