using System.Reflection;
using System.Runtime.Versioning;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Orchflow.Functions.Functions;
using Orchflow.Functions.Http.RateLimiting;
using Orchflow.Infrastructure;
using Orchflow.Infrastructure.Secrets;
using Orchflow.Infrastructure.Storage;
using Orchflow.Models;
using Orchflow.Webhooks;

namespace Orchflow.Tests.Deployment;

/// <summary>
/// What infra/main.bicep would deploy, read from the ARM template the pinned Bicep CLI compiles: the Function App's
/// settings cover every configuration key the app needs in Azure, no template holds or reads a secret, and the
/// identity gets only the data roles it needs, each on one resource.
/// </summary>
[TestFixture]
public sealed partial class InfraTemplateTests
{
    /// <summary>
    /// The configuration the app needs in Azure, as environment variables (<c>__</c> separates sections): the Functions
    /// host's and the durable extension's storage connection, the identity that DefaultAzureCredential picks, telemetry,
    /// and the Orchflow options read in production. Options whose defaults serve production (Engine, Models, Simulated)
    /// are left out. When the app starts needing another key in Azure, add it here and to infra/modules/function-app.bicep.
    /// </summary>
    static readonly string[] ProductionKeys =
    [
        "AzureWebJobsStorage__accountName",
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
        "AZURE_CLIENT_ID",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        Key(StorageOptions.Section, nameof(StorageOptions.TableServiceUri)),
        Key(StorageOptions.Section, nameof(StorageOptions.TablePrefix)),
        Key(StorageOptions.Section, nameof(StorageOptions.QueueServiceUri)),
        Key(WebhookOptions.Section, nameof(WebhookOptions.Queue)),
        Key(SecretsOptions.Section, nameof(SecretsOptions.VaultUri)),
        Key(SecurityOptions.Section, nameof(SecurityOptions.ApiKeyPepper)),
        Key(ManagedModelOptions.Section, nameof(ManagedModelOptions.Provider)),
        Key(ManagedModelOptions.Section, nameof(ManagedModelOptions.Model)),
        Key(ManagedModelOptions.Section, nameof(ManagedModelOptions.Endpoint)),
        Key(ManagedModelOptions.Section, nameof(ManagedModelOptions.ApiKey)),
        Key(AccountOptions.Section, nameof(AccountOptions.TrialRuns)),
        Key(RateLimitOptions.Section, nameof(RateLimitOptions.ClientAddressHeader)),
    ];

    /// <summary>Settings whose values are secrets: they must be Key Vault references.</summary>
    static readonly string[] SecretKeys =
    [
        Key(SecurityOptions.Section, nameof(SecurityOptions.ApiKeyPepper)),
        Key(ManagedModelOptions.Section, nameof(ManagedModelOptions.ApiKey)),
    ];

    /// <summary>Settings that must not be set in Azure, and why.</summary>
    static readonly Dictionary<string, string> ForbiddenKeys = new()
    {
        ["AzureWebJobsStorage"] = "a connection string with the account key; the host connects with the identity",
        [Key(StorageOptions.Section, nameof(StorageOptions.ConnectionString))] = "a connection string with the account key; the projection uses TableServiceUri",
        [Key(SecurityOptions.Section, nameof(SecurityOptions.SecretsKey))] = "the local secret store's key; in Azure provider keys are in Key Vault",
        ["FUNCTIONS_WORKER_RUNTIME"] = "the Flex Consumption plan takes the runtime from functionAppConfig and rejects this setting",
        ["FUNCTIONS_EXTENSION_VERSION"] = "the Flex Consumption plan rejects this setting",
    };

    /// <summary>Role name → id of every role the template may grant; nothing broader (Owner, Contributor, Blob Data Owner…).</summary>
    static readonly Dictionary<string, string> AllowedRoles = new()
    {
        ["Storage Blob Data Contributor"] = "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        ["Storage Queue Data Contributor"] = "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        ["Storage Table Data Contributor"] = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
        ["Key Vault Secrets Officer"] = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        ["Monitoring Metrics Publisher"] = "3913510d-42f4-4e42-8a64-420c390055eb",
        ["Durable Task Data Contributor"] = "0ad04412-c4d5-4796-b79c-f76d14c8d402",
    };

    static string InfraDirectory => Path.Combine(RepoPaths.Root, "infra");

    JsonObject main = null!;
    JsonObject functionApp = null!;
    Dictionary<string, string> settings = null!;

    [OneTimeSetUp]
    public void CompileTemplate()
    {
        main = BicepCli.Build(Path.Combine(InfraDirectory, "main.bicep"));
        functionApp = Resources(main).Single(r => (string?)r["name"] == "functionApp")["properties"]!["template"]!.AsObject();
        settings = AppSettings(functionApp);
    }

    [Test]
    public void AppSettings_SetEveryProductionConfigurationKey()
    {
        Assert.That(ProductionKeys.Where(k => !settings.ContainsKey(k)), Is.Empty, "keys the template does not set");
    }

    [Test]
    public void AppSettings_SecretsAreKeyVaultReferencesResolvedWithTheAppIdentity()
    {
        Assert.Multiple(() =>
        {
            foreach (var key in SecretKeys)
            {
                Assert.That(settings[key], Does.StartWith("format('@Microsoft.KeyVault(VaultName="), key);
            }

            var site = Resources(functionApp).Single(r => (string?)r["type"] == "Microsoft.Web/sites");
            Assert.That((string?)site["properties"]!["keyVaultReferenceIdentity"], Is.EqualTo("[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('identityName'))]"));
            Assert.That(site["identity"]!["type"]!.GetValue<string>(), Is.EqualTo("UserAssigned"));
        });
    }

    [Test]
    public void AppSettings_HoldNoKeyOrKeyBasedConnectionString()
    {
        Assert.Multiple(() =>
        {
            foreach (var (key, why) in ForbiddenKeys)
            {
                Assert.That(settings.ContainsKey(key), Is.False, $"{key} is set: {why}");
            }

            foreach (var (key, value) in settings.Where(s => LooksSecret(s.Key)))
            {
                var acceptable = key switch
                {
                    // Locates the resource; with local authentication off, ingestion needs the identity's token.
                    "APPLICATIONINSIGHTS_CONNECTION_STRING" => value.EndsWith(".ConnectionString", StringComparison.Ordinal),
                    "DURABLE_TASK_SCHEDULER_CONNECTION_STRING" => value.Contains("Authentication=ManagedIdentity", StringComparison.Ordinal),
                    _ => value.StartsWith("format('@Microsoft.KeyVault(", StringComparison.Ordinal),
                };
                Assert.That(acceptable, Is.True, $"{key} = {value} looks like a secret but is neither a Key Vault reference nor identity-based");
            }
        });
    }

    [Test]
    public void Templates_ContainNoSecret()
    {
        var texts = new Dictionary<string, string>
        {
            ["compiled main.json"] = main.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }),
            ["infra/main.parameters.json"] = File.ReadAllText(Path.Combine(InfraDirectory, "main.parameters.json")),
            ["azure.yaml"] = File.ReadAllText(Path.Combine(RepoPaths.Root, "azure.yaml")),
        };
        foreach (var file in Directory.EnumerateFiles(InfraDirectory, "*.bicep", SearchOption.AllDirectories))
        {
            texts[Path.GetRelativePath(RepoPaths.Root, file)] = File.ReadAllText(file);
        }

        var templates = Templates(main).ToList();
        Assert.Multiple(() =>
        {
            foreach (var (name, text) in texts)
            {
                Assert.That(CredentialLiteral().Matches(text).Select(m => m.Value), Is.Empty, $"{name} holds a credential");
                var withoutUrls = Url().Replace(text, "");
                Assert.That(HighEntropyLiteral().Matches(withoutUrls).Select(m => m.Value).Where(MixesCaseAndDigits), Is.Empty, $"{name} holds what looks like a key");
                Assert.That(ListFunctionCall().Matches(text).Select(m => m.Value), Is.Empty, $"{name} reads keys or secrets of a resource");
            }

            foreach (var template in templates)
            {
                var secureParameters = (template["parameters"]?.AsObject() ?? [])
                    .Where(p => ((string?)p.Value!["type"])?.StartsWith("secure", StringComparison.OrdinalIgnoreCase) == true)
                    .Select(p => p.Key);
                Assert.That(secureParameters, Is.Empty, "a template takes a secret as a parameter");
                Assert.That(Resources(template).Select(r => (string?)r["type"]), Has.None.EqualTo("Microsoft.KeyVault/vaults/secrets"), "a template writes a secret value");
            }
        });
    }

    [Test]
    public void RoleAssignments_GrantOnlyDataRolesEachOnOneResource()
    {
        var assignments = Templates(main).SelectMany(Resources).Where(r => (string?)r["type"] == "Microsoft.Authorization/roleAssignments").ToList();
        var granted = Guid().Matches(main.ToJsonString()).Select(m => m.Value).ToHashSet();

        Assert.Multiple(() =>
        {
            Assert.That(granted, Is.EquivalentTo(AllowedRoles.Values), "role ids in the template");
            // Storage (one loop over its three data roles), Key Vault (app, deployer), telemetry, task hub.
            Assert.That(assignments, Has.Count.EqualTo(5), "role assignment resources");
            foreach (var assignment in assignments)
            {
                // Without a scope an assignment covers its whole resource group.
                Assert.That((string?)assignment["scope"], Is.Not.Null.And.Not.Empty, $"role assignment {assignment["name"]} has no resource scope");
            }
        });
    }

    [Test]
    public void Resources_AcceptOnlyMicrosoftEntraAuthentication()
    {
        var resources = Templates(main).SelectMany(Resources).ToList();
        JsonNode Properties(string type) => resources.Single(r => (string?)r["type"] == type)["properties"]!;

        Assert.Multiple(() =>
        {
            var storage = Properties("Microsoft.Storage/storageAccounts");
            Assert.That(storage["allowSharedKeyAccess"]!.GetValue<bool>(), Is.False, "Storage shared keys");
            Assert.That(storage["allowBlobPublicAccess"]!.GetValue<bool>(), Is.False, "anonymous blob access");
            Assert.That(Properties("Microsoft.Insights/components")["DisableLocalAuth"]!.GetValue<bool>(), Is.True, "Application Insights local authentication");
            Assert.That(Properties("Microsoft.OperationalInsights/workspaces")["features"]!["disableLocalAuth"]!.GetValue<bool>(), Is.True, "Log Analytics local authentication");
            var vault = Properties("Microsoft.KeyVault/vaults");
            Assert.That(vault["enableRbacAuthorization"]!.GetValue<bool>(), Is.True, "Key Vault RBAC mode");
            Assert.That(vault["enablePurgeProtection"]!.GetValue<bool>(), Is.True, "Key Vault purge protection");
            var deployment = Properties("Microsoft.Web/sites")["functionAppConfig"]!["deployment"]!["storage"]!["authentication"]!;
            Assert.That(deployment["type"]!.GetValue<string>(), Is.EqualTo("UserAssignedIdentity"), "deployment package access");
            Assert.That(resources.Where(r => (string?)r["type"] == "Microsoft.Web/sites/basicPublishingCredentialsPolicies")
                .Select(r => r["properties"]!["allow"]!.GetValue<bool>()), Is.EqualTo(new[] { false, false }), "FTP and SCM basic authentication");
        });
    }

    [Test]
    public void FunctionApp_RunsTheFunctionsProjectsDotnetOnFlexConsumption()
    {
        var framework = new FrameworkName(typeof(HealthFunctions).Assembly.GetCustomAttribute<TargetFrameworkAttribute>()!.FrameworkName);
        var resources = Resources(functionApp).ToList();
        var runtime = resources.Single(r => (string?)r["type"] == "Microsoft.Web/sites")["properties"]!["functionAppConfig"]!["runtime"]!;
        var plan = resources.Single(r => (string?)r["type"] == "Microsoft.Web/serverfarms");

        Assert.Multiple(() =>
        {
            Assert.That((string?)runtime["name"], Is.EqualTo("dotnet-isolated"));
            Assert.That((string?)runtime["version"], Is.EqualTo($"{framework.Version.Major}.{framework.Version.Minor}"), "runtime version = the Functions project's target framework");
            Assert.That((string?)plan["sku"]!["name"], Is.EqualTo("FC1"));
            Assert.That((string?)plan["sku"]!["tier"], Is.EqualTo("FlexConsumption"));
        });
    }

    [Test]
    public void DurableSettings_MatchHostJsonAndSelectTheScheduler()
    {
        var durable = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "host.json")))!["extensions"]!["durableTask"]!;

        Assert.Multiple(() =>
        {
            Assert.That((string?)main["variables"]!["taskHubName"], Is.EqualTo((string?)durable["hubName"]), "task hub");
            Assert.That(main["parameters"]!["partitionCount"]!["defaultValue"]!.GetValue<int>(), Is.EqualTo(durable["storageProvider"]!["partitionCount"]!.GetValue<int>()), "partition count");
            Assert.That(settings["AzureFunctionsJobHost__extensions__durableTask__hubName"], Is.EqualTo("parameters('taskHubName')"));
            // With the scheduler chosen, its settings replace host.json's storage provider and name the connection.
            Assert.That(settings["AzureFunctionsJobHost__extensions__durableTask__storageProvider__type"], Is.EqualTo("'azureManaged'"));
            var connection = settings["AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName"].Trim('\'');
            Assert.That(settings, Does.ContainKey(connection));
        });
    }

    [Test]
    public void FunctionAppCors_AllowsTheOriginsOfOneParameter_AndTellsTheAppTheSameList()
    {
        var site = Resources(functionApp).Single(r => (string?)r["type"] == "Microsoft.Web/sites");
        var cors = site["properties"]!["siteConfig"]!["cors"]!;
        var module = Resources(main).Single(r => (string?)r["name"] == "functionApp");
        var config = Resources(functionApp).Single(r => (string?)r["type"] == "Microsoft.Web/sites/config" && ((string?)r["name"])!.Contains("appsettings"));

        Assert.Multiple(() =>
        {
            Assert.That((string?)main["parameters"]!["corsAllowedOrigins"]!["defaultValue"], Is.Empty, "no other origin by default");
            Assert.That(module["properties"]!["parameters"]!["corsAllowedOrigins"]!.GetValue<string>(),
                Does.Contain("split(parameters('corsAllowedOrigins'), ',')"), "one comma-separated azd setting");
            Assert.That((string?)cors["allowedOrigins"], Is.EqualTo("[parameters('corsAllowedOrigins')]"), "the platform allows the listed origins");
            Assert.That(cors["supportCredentials"]!.GetValue<bool>(), Is.False, "the key is a header, not a cookie");
            Assert.That((string?)functionApp["variables"]!["corsSettings"], Does.Contain("Orchflow__Cors__AllowedOrigins__").And.Contain("parameters('corsAllowedOrigins')"),
                "the app knows the same origins, to expose the headers clients read");
            Assert.That(config["properties"]!.GetValue<string>(), Does.Contain("variables('corsSettings')"));
        });
    }

    [Test]
    public void ManagedModelProvider_AllowsTheProviderKindsOrNoneForTheSimulatedModel()
    {
        var allowed = main["parameters"]!["managedModelProvider"]!["allowedValues"]!.AsArray().Select(v => v!.GetValue<string>());

        Assert.That(allowed, Is.EquivalentTo(ProviderKinds.All.Prepend("")));
    }

    [Test]
    public void ParametersFile_NamesTemplateParametersWithTheTemplateDefaults()
    {
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(InfraDirectory, "main.parameters.json")))!["parameters"]!.AsObject();
        var parameters = main["parameters"]!.AsObject();

        Assert.Multiple(() =>
        {
            foreach (var (name, entry) in file)
            {
                Assert.That(parameters.ContainsKey(name), Is.True, $"{name} is not a parameter of main.bicep");
                // "${VARIABLE=default}": azd's value when the environment does not set VARIABLE.
                if (EnvironmentDefault().Match((string)entry!["value"]!) is { Success: true } match && parameters[name]?["defaultValue"] is { } templateDefault)
                {
                    var expected = templateDefault.GetValueKind() == JsonValueKind.String ? templateDefault.GetValue<string>() : templateDefault.ToJsonString();
                    Assert.That(match.Groups[1].Value, Is.EqualTo(expected), $"default of {name}");
                }
            }
        });
    }

    static string Key(string section, string name) => $"{section.Replace(":", "__", StringComparison.Ordinal)}__{name}";

    /// <summary>The resources a template deploys (references to existing ones left out), whether listed or keyed by symbolic name.</summary>
    static IEnumerable<JsonObject> Resources(JsonNode template) =>
        (template["resources"] switch
        {
            JsonArray list => list.Select(r => r!.AsObject()),
            JsonObject byName => byName.Select(r => r.Value!.AsObject()),
            _ => [],
        }).Where(r => r["existing"]?.GetValue<bool>() != true);

    /// <summary>A template and, recursively, the templates of the deployments (modules) it contains.</summary>
    static IEnumerable<JsonObject> Templates(JsonObject template) =>
        Resources(template)
            .Where(r => (string?)r["type"] == "Microsoft.Resources/deployments")
            .SelectMany(r => Templates(r["properties"]!["template"]!.AsObject()))
            .Prepend(template);

    /// <summary>Name → value expression of the site's appsettings, from the object (or object-building expression) the template sets.</summary>
    static Dictionary<string, string> AppSettings(JsonObject template)
    {
        var properties = Resources(template).Single(r => (string?)r["type"] == "Microsoft.Web/sites/config" && ((string?)r["name"])!.Contains("appsettings"))["properties"]!;
        if (properties is JsonObject literal)
        {
            return literal.ToDictionary(p => p.Key, p => p.Value!.ToJsonString());
        }

        var expression = properties.GetValue<string>();
        var entries = new Dictionary<string, string>(ArmExpression.CreatedObjectEntries(expression));
        foreach (var variable in ArmExpression.VariablesUsed(expression))
        {
            if (template["variables"]?[variable] is JsonObject values)
            {
                foreach (var (key, value) in values)
                {
                    entries.TryAdd(key, value is JsonValue v && v.TryGetValue<string>(out var text) ? text.Trim('[', ']') : value!.ToJsonString());
                }
            }
        }

        return entries;
    }

    /// <summary>Whether a setting's own name (its last section) suggests a secret; names of other settings do not count.</summary>
    static bool LooksSecret(string key)
    {
        var name = key[(key.LastIndexOf("__", StringComparison.Ordinal) is var i and >= 0 ? i + 2 : 0)..];
        return SecretLikeName().IsMatch(name) && !name.EndsWith("Name", StringComparison.Ordinal);
    }

    static bool MixesCaseAndDigits(string s) => s.Any(char.IsUpper) && s.Any(char.IsLower) && s.Any(char.IsDigit);

    [GeneratedRegex(@"(?i)key|secret|password|pepper|token|connection_?string")]
    private static partial Regex SecretLikeName();

    /// <summary>Pieces of credentials: account keys, SAS signatures, private keys, client secrets.</summary>
    [GeneratedRegex(@"(?i)AccountKey=|SharedAccessSignature=|[?&]sig=|-----BEGIN [A-Z ]*PRIVATE KEY-----|ClientSecret=|Password=")]
    private static partial Regex CredentialLiteral();

    /// <summary>A long run of base64 characters, as keys and tokens are written.</summary>
    [GeneratedRegex(@"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{32,}={0,2}")]
    private static partial Regex HighEntropyLiteral();

    [GeneratedRegex(@"https?://\S+")]
    private static partial Regex Url();

    /// <summary>ARM's list* functions (listKeys, listSecrets, listConnectionStrings, listAccountSas…) return keys.</summary>
    [GeneratedRegex(@"\blist[A-Z]?[A-Za-z]*\(")]
    private static partial Regex ListFunctionCall();

    [GeneratedRegex(@"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")]
    private static partial Regex Guid();

    [GeneratedRegex(@"^\$\{[A-Z0-9_]+=(.*)\}$")]
    private static partial Regex EnvironmentDefault();
}
