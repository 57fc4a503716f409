namespace Orchflow.Models;

/// <summary>
/// One model on one provider account, with the key to call it. Lives only inside an activity; its text form
/// never shows the key, so logging it by accident cannot leak one.
/// </summary>
public sealed record ModelTarget(string Kind, string Model, Uri Endpoint, string ApiKey, string Source)
{
    /// <summary>Builds a target from a provider's settings, filling in the kind's public endpoint when none is given.</summary>
    public static ModelTarget Create(string kind, string model, string? endpoint, string apiKey, string source)
    {
        var uri = !string.IsNullOrWhiteSpace(endpoint)
            ? new Uri(endpoint.TrimEnd('/'))
            : ProviderKinds.DefaultEndpoint(kind) ?? throw new ModelProviderException($"The {kind} provider {source} has no endpoint; register it again with one.");
        return new ModelTarget(kind, model, uri, apiKey, source);
    }

    /// <summary>What the run record shows as the model that planned it.</summary>
    public string Name => $"{Kind}:{Model}";

    public override string ToString() => $"{Name} at {Endpoint.GetLeftPart(UriPartial.Authority)} ({Source})";
}
