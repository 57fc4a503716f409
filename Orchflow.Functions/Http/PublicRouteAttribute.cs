namespace Orchflow.Functions.Http;

/// <summary>Marks an HTTP function that needs no API key (registration, templates, health).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PublicRouteAttribute : Attribute
{
    /// <summary>Limits calls per client address (Orchflow:RateLimit:RegisterPerMinute), for public routes that create things.</summary>
    public bool LimitPerClientAddress { get; init; }
}
