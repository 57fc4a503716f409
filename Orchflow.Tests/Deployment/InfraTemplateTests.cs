using System.Reflection;
using System.Runtime.Versioning;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Orchflow.Functions.Functions;
using Orchflow.Models;

namespace Orchflow.Tests.Deployment;

/// <summary>
/// infra/main.bicep as the pinned Bicep CLI compiles it, every branch included: no template holds or reads a secret, the
/// identity gets only the data roles it needs, each on one resource, and every resource accepts only Microsoft Entra
/// identities. What a given set of parameters deploys is checked on snapshots (<see cref="InfraSnapshotTests"/>).
/// </summary>
[TestFixture]
public sealed partial class InfraTemplateTests
{
    /// <summary>
    /// Role name → id of every role the template may grant; nothing broader (Owner, Contributor…). Blob Data Owner is
    /// what Microsoft documents for AzureWebJobsStorage with an identity.
    /// </summary>
    static readonly Dictionary<string, string> AllowedRoles = new()
    {
        ["Storage Blob Data Owner"] = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        ["Storage Queue Data Contributor"] = "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        ["Storage Table Data Contributor"] = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
        ["Key Vault Secrets Officer"] = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        ["Monitoring Metrics Publisher"] = "3913510d-42f4-4e42-8a64-420c390055eb",
    };

    static string InfraDirectory => Path.Combine(RepoPaths.Root, "infra");

    JsonObject main = null!;
    JsonObject functionApp = null!;

    [OneTimeSetUp]
    public void CompileTemplate()
    {
        main = BicepCli.Build(Path.Combine(InfraDirectory, "main.bicep"));
        functionApp = Resources(main).Single(r => (string?)r["name"] == "functionApp")["properties"]!["template"]!.AsObject();
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
            // Storage (one loop over its data roles, in each of the two module deployments: the main account and the
            // API's own), Key Vault (app, deployer), telemetry.
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
            // One account definition, deployed twice where the API's tables have an account of their own.
            var accounts = resources.Where(r => (string?)r["type"] == "Microsoft.Storage/storageAccounts").Select(r => r["properties"]!).ToList();
            Assert.That(accounts, Has.Count.EqualTo(2), "the storage module, in the main account's deployment and the API's");
            foreach (var storage in accounts)
            {
                Assert.That(storage["allowSharedKeyAccess"]!.GetValue<bool>(), Is.False, "Storage shared keys");
                Assert.That(storage["allowBlobPublicAccess"]!.GetValue<bool>(), Is.False, "anonymous blob access");
            }

            Assert.That(Properties("Microsoft.Insights/components")["DisableLocalAuth"]!.GetValue<bool>(), Is.True, "Application Insights local authentication");
            Assert.That(Properties("Microsoft.OperationalInsights/workspaces")["features"]!["disableLocalAuth"]!.GetValue<bool>(), Is.True, "Log Analytics local authentication");
            var vault = Properties("Microsoft.KeyVault/vaults");
            Assert.That(vault["enableRbacAuthorization"]!.GetValue<bool>(), Is.True, "Key Vault RBAC mode");
            Assert.That(vault["enablePurgeProtection"]!.GetValue<string>(), Does.Contain("parameters('purgeProtection')"),
                "Key Vault purge protection is the operator's choice: on, erasure cannot purge a closed account's provider keys");
            Assert.That(main["parameters"]!["keyVaultPurgeProtection"]!["defaultValue"]!.GetValue<bool>(), Is.False,
                "off by default, so erasing an account purges its provider keys");
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

    static bool MixesCaseAndDigits(string s) => s.Any(char.IsUpper) && s.Any(char.IsLower) && s.Any(char.IsDigit);

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
