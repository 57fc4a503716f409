namespace Orchflow.Models;

/// <summary>
/// The model behind the managed trial runs (section <c>Orchflow:ManagedModel</c>). With no provider set, trial runs
/// use the built-in simulated model, as local development does.
/// </summary>
public sealed class ManagedModelOptions
{
    public const string Section = "Orchflow:ManagedModel";

    /// <summary>One of <see cref="ProviderKinds.All"/>, or empty for the simulated model.</summary>
    public string? Provider { get; set; }

    public string? Model { get; set; }

    public string? Endpoint { get; set; }

    /// <summary>In Azure, a Key Vault reference in the app settings, resolved by the platform.</summary>
    public string? ApiKey { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Provider);
}
