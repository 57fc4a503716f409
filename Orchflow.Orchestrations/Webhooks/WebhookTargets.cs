using Orchflow.Infrastructure.Network;

namespace Orchflow.Webhooks;

/// <summary>Which URLs a webhook may be registered with.</summary>
public static class WebhookTargets
{
    public const int MaxUrlLength = 2000;

    /// <summary>
    /// Why <paramref name="url"/> cannot be a webhook, if it cannot: https only (http to loopback in Development, for a
    /// receiver on a developer's machine), no credentials, and no address written out that the policy refuses. A name
    /// that resolves inward is refused when a delivery connects.
    /// </summary>
    public static string? Problem(string url, AddressPolicy policy) =>
        OutboundUrls.Problem("url", url, policy, "a receiver on this machine", "check the signature of each delivery instead");
}
