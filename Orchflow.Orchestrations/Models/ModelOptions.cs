using Orchflow.Infrastructure;

namespace Orchflow.Models;

/// <summary>How Orchflow calls model providers (section <c>Orchflow:Models</c>).</summary>
public sealed class ModelOptions
{
    public const string Section = "Orchflow:Models";

    /// <summary>How long one request may take before it is abandoned and retried.</summary>
    public int RequestTimeoutSeconds { get; set; } = 120;

    /// <summary>Requests made for one model call before it fails, the first included.</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>The first backoff; each retry doubles it, with jitter, up to <see cref="MaxRetryDelaySeconds"/>.</summary>
    public int RetryBaseDelayMs { get; set; } = 1_000;

    /// <summary>The longest wait between attempts. A provider asking (Retry-After) for a longer wait fails the call instead.</summary>
    public int MaxRetryDelaySeconds { get; set; } = 60;

    /// <summary>
    /// Whether registered providers may point at loopback, private or link-local addresses (a local Ollama, say).
    /// Defaults to true in development only: in a hosted deployment such an endpoint could reach internal services.
    /// </summary>
    public bool? AllowPrivateEndpoints { get; set; }

    public TimeSpan RequestTimeout => TimeSpan.FromSeconds(RequestTimeoutSeconds);

    public TimeSpan MaxRetryDelay => TimeSpan.FromSeconds(MaxRetryDelaySeconds);

    public void Validate()
    {
        if (RequestTimeoutSeconds < 1 || MaxAttempts < 1 || RetryBaseDelayMs < 0 || MaxRetryDelaySeconds < 0)
        {
            throw new InvalidOperationException(
                $"{Section}: RequestTimeoutSeconds and MaxAttempts must be at least 1, RetryBaseDelayMs and MaxRetryDelaySeconds at least 0.");
        }
    }
}

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

    public void Validate()
    {
        if (!IsConfigured)
        {
            return;
        }

        KeyVaultReferences.EnsureResolved($"{Section}:ApiKey", ApiKey);
        var problems = new List<string>();
        if (!ProviderKinds.IsKnown(Provider!))
        {
            problems.Add($"Provider must be one of: {string.Join(", ", ProviderKinds.All)}");
        }

        if (string.IsNullOrWhiteSpace(Model))
        {
            problems.Add("Model is required");
        }

        if (string.IsNullOrWhiteSpace(ApiKey))
        {
            problems.Add("ApiKey is required");
        }

        if (string.IsNullOrWhiteSpace(Endpoint) ? ProviderKinds.NeedsEndpoint(Provider!) : !Uri.TryCreate(Endpoint, UriKind.Absolute, out _))
        {
            problems.Add($"Endpoint must be an absolute URL{(ProviderKinds.NeedsEndpoint(Provider!) ? $" for {Provider}" : "")}");
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException($"{Section}: {string.Join("; ", problems)}.");
        }
    }
}
