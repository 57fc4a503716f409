namespace Orchflow.Functions.Http;

/// <summary>
/// Web pages on other origins that may call the API from the browser (section <c>Orchflow:Cors</c>). Empty, the
/// default: no CORS headers at all, so only same-origin pages (the console) and servers call the API.
/// </summary>
public sealed class BrowserClientOptions
{
    public const string Section = "Orchflow:Cors";

    /// <summary>Origins as browsers send them: scheme, host and port only, such as <c>https://app.example.com</c>.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    public bool Allows(string? origin) =>
        !string.IsNullOrEmpty(origin) && AllowedOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase);
}
