using System.Text.Json.Nodes;

namespace Orchflow.Tests.Deployment;

/// <summary>
/// The resources infra/main.bicep would deploy with given azd parameters, predicted offline by <c>bicep snapshot</c>
/// (<see cref="BicepCli.Snapshot"/>): module contents included, conditions and loops already decided.
/// </summary>
public sealed class TemplateSnapshot
{
    /// <summary>What azd passes when the environment sets nothing else (main.parameters.json's defaults apply).</summary>
    public static readonly IReadOnlyDictionary<string, object> Required = new Dictionary<string, object>
    {
        ["environmentName"] = "test",
        ["location"] = "eastus2",
        ["deployerPrincipalId"] = "00000000-0000-0000-0000-00000000000d",
    };

    TemplateSnapshot(JsonObject snapshot)
    {
        Resources = snapshot["predictedResources"]!.AsArray().Select(r => r!.AsObject()).ToList();
        var settings = Single("Microsoft.Web/sites/config");
        Assert.That((string?)settings["name"], Does.EndWith("/appsettings"));
        AppSettings = settings["properties"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>());
    }

    public IReadOnlyList<JsonObject> Resources { get; }

    /// <summary>The Function App's app settings, name → value (an ARM expression where the value is known only in Azure).</summary>
    public IReadOnlyDictionary<string, string> AppSettings { get; }

    /// <summary>Takes a snapshot with <see cref="Required"/> plus <paramref name="parameters"/>; fails the test if the template refuses them.</summary>
    public static TemplateSnapshot Of(IReadOnlyDictionary<string, object>? parameters = null)
    {
        var (snapshot, output) = BicepCli.Snapshot(MainBicep, With(parameters));
        Assert.That(snapshot, Is.Not.Null, $"bicep snapshot failed:\n{output}");
        return new TemplateSnapshot(snapshot!);
    }

    /// <summary>The CLI's output when the template refuses <paramref name="parameters"/>; fails the test if it accepts them.</summary>
    public static string Refusal(IReadOnlyDictionary<string, object> parameters)
    {
        var (snapshot, output) = BicepCli.Snapshot(MainBicep, With(parameters));
        Assert.That(snapshot, Is.Null, "the template accepted the parameters");
        return output;
    }

    public IEnumerable<JsonObject> OfType(string type) =>
        Resources.Where(r => string.Equals((string?)r["type"], type, StringComparison.OrdinalIgnoreCase));

    public JsonObject Single(string type)
    {
        var matches = OfType(type).ToList();
        Assert.That(matches, Has.Count.EqualTo(1), $"resources of type {type}");
        return matches[0];
    }

    /// <summary>The resource with this id, as another resource refers to it.</summary>
    public JsonObject ById(string id) =>
        Resources.SingleOrDefault(r => string.Equals((string?)r["id"], id, StringComparison.OrdinalIgnoreCase))
        ?? throw new AssertionException($"the snapshot has no resource {id}");

    static string MainBicep => Path.Combine(RepoPaths.Root, "infra", "main.bicep");

    static Dictionary<string, object> With(IReadOnlyDictionary<string, object>? parameters)
    {
        var all = new Dictionary<string, object>(Required);
        foreach (var (name, value) in parameters ?? new Dictionary<string, object>())
        {
            all[name] = value;
        }

        return all;
    }
}

/// <summary>
/// The deployments the tests look at, each snapshotted once per test run (a snapshot takes the CLI several seconds):
/// azd's defaults, everything optional turned on, and a private network with no public way into Key Vault.
/// </summary>
public static class TemplateScenarios
{
    public const string ListedOrigins = " https://app.example.com , http://localhost:5173";

    public const string KeyVaultAllowedIps = "203.0.113.7, 198.51.100.0/24";

    static readonly Lazy<Task<TemplateSnapshot>> defaults = new(() => Task.Run(() => TemplateSnapshot.Of()));

    static readonly Lazy<Task<TemplateSnapshot>> everything = new(() => Task.Run(() => TemplateSnapshot.Of(new Dictionary<string, object>
    {
        ["managedModelProvider"] = "openai",
        ["managedModelName"] = "gpt-4o-mini",
        ["corsAllowedOrigins"] = ListedOrigins,
        ["privateNetwork"] = true,
        ["keyVaultAllowedIpAddresses"] = KeyVaultAllowedIps,
        ["alwaysReadyHttpInstances"] = 2,
    })));

    static readonly Lazy<Task<TemplateSnapshot>> privateOnly = new(() => Task.Run(() => TemplateSnapshot.Of(new Dictionary<string, object>
    {
        ["privateNetwork"] = true,
    })));

    static readonly Lazy<Task<TemplateSnapshot>> separateApiStorage = new(() => Task.Run(() => TemplateSnapshot.Of(new Dictionary<string, object>
    {
        ["apiStorage"] = "separate",
        ["privateNetwork"] = true,
    })));

    /// <summary>What <c>azd up</c> deploys when the environment sets nothing but its name and region.</summary>
    public static Task<TemplateSnapshot> DefaultsAsync() => defaults.Value;

    /// <summary>A managed model, two CORS origins, the private network with two addresses let into Key Vault, warm HTTP instances.</summary>
    public static Task<TemplateSnapshot> EverythingAsync() => everything.Value;

    /// <summary>The private network alone: Key Vault has no public access at all.</summary>
    public static Task<TemplateSnapshot> PrivateOnlyAsync() => privateOnly.Value;

    /// <summary>The API's tables in a storage account of their own, on the private network.</summary>
    public static Task<TemplateSnapshot> SeparateApiStorageAsync() => separateApiStorage.Value;
}
