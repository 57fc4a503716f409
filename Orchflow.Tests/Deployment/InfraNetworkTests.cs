using System.Text.Json.Nodes;

namespace Orchflow.Tests.Deployment;

/// <summary>
/// Diagnostic settings of the Function App, Key Vault and Storage to the deployment's Log Analytics workspace, and the
/// opt-in private network (VNet integration, private endpoints and DNS for Storage and Key Vault), on offline snapshots.
/// </summary>
[TestFixture]
public sealed class InfraNetworkTests
{
    const string Diagnostics = "Microsoft.Insights/diagnosticSettings";

    TemplateSnapshot defaults = null!;
    TemplateSnapshot everything = null!;
    TemplateSnapshot privateOnly = null!;

    [OneTimeSetUp]
    public async Task TakeSnapshotsAsync()
    {
        defaults = await TemplateScenarios.DefaultsAsync();
        everything = await TemplateScenarios.EverythingAsync();
        privateOnly = await TemplateScenarios.PrivateOnlyAsync();
    }

    [Test]
    public void DiagnosticSettings_SendTheAppsTheVaultsAndStoragesLogsToTheWorkspace()
    {
        var workspace = (string)defaults.Single("Microsoft.OperationalInsights/workspaces")["id"]!;
        var byScope = defaults.OfType(Diagnostics).ToDictionary(Scope, d => d["properties"]!);
        string Id(string type) => (string)defaults.Single(type)["id"]!;
        string[] Categories(JsonNode settings, string kind) =>
            settings[kind]?.AsArray().Where(c => c!["enabled"]!.GetValue<bool>()).Select(c => (string)c!["category"]!).ToArray() ?? [];

        var storageServices = new[] { "blobServices", "queueServices", "tableServices" }
            .Select(s => Id($"Microsoft.Storage/storageAccounts/{s}")).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(byScope.Keys, Is.EquivalentTo(storageServices.Concat([
                Id("Microsoft.Web/sites"), Id("Microsoft.KeyVault/vaults"), Id("Microsoft.Storage/storageAccounts"),
            ])), "one diagnostic setting per resource");
            foreach (var (scope, settings) in byScope)
            {
                Assert.That((string?)settings["workspaceId"], Is.EqualTo(workspace), scope);
            }

            Assert.That(Categories(byScope[Id("Microsoft.Web/sites")], "logs"), Is.EqualTo(new[] { "FunctionAppLogs" }));
            Assert.That(Categories(byScope[Id("Microsoft.KeyVault/vaults")], "logs"), Is.EqualTo(new[] { "AuditEvent" }), "who read, wrote or was denied which secret");
            Assert.That(Categories(byScope[Id("Microsoft.Storage/storageAccounts")], "metrics"), Is.EqualTo(new[] { "Transaction" }));
            foreach (var service in storageServices)
            {
                // Reads are left out by default: the host's and the durable backend's polling makes them most of the volume.
                Assert.That(Categories(byScope[service], "logs"), Is.EquivalentTo(new[] { "StorageWrite", "StorageDelete" }), service);
            }
        });
    }

    [Test]
    public void PrivateNetwork_Off_CreatesNoNetworkAndLeavesStorageAndKeyVaultPublic()
    {
        Assert.Multiple(() =>
        {
            Assert.That(defaults.Resources.Select(r => (string)r["type"]!).Where(t => t.StartsWith("Microsoft.Network/", StringComparison.OrdinalIgnoreCase)), Is.Empty);
            Assert.That((string?)defaults.Single("Microsoft.Storage/storageAccounts")["properties"]!["publicNetworkAccess"], Is.EqualTo("Enabled"));
            Assert.That((string?)defaults.Single("Microsoft.KeyVault/vaults")["properties"]!["publicNetworkAccess"], Is.EqualTo("Enabled"));
            Assert.That(defaults.Single("Microsoft.Web/sites")["properties"]!["virtualNetworkSubnetId"], Is.Null);
        });
    }

    [Test]
    public void PrivateNetwork_On_TheAppJoinsADelegatedSubnet()
    {
        var network = everything.Single("Microsoft.Network/virtualNetworks");
        var subnets = network["properties"]!["subnets"]!.AsArray().ToDictionary(s => (string)s!["name"]!, s => s!["properties"]!);

        Assert.Multiple(() =>
        {
            Assert.That((string?)everything.Single("Microsoft.Web/sites")["properties"]!["virtualNetworkSubnetId"], Is.EqualTo($"{network["id"]}/subnets/app"));
            Assert.That(subnets["app"]["delegations"]!.AsArray().Select(d => (string?)d!["properties"]!["serviceName"]),
                Is.EqualTo(new[] { "Microsoft.App/environments" }), "Flex Consumption joins a subnet delegated to Microsoft.App/environments");
            Assert.That(subnets["private-endpoints"]["delegations"], Is.Null);
            Assert.That((string?)subnets["app"]["addressPrefix"], Is.Not.EqualTo((string?)subnets["private-endpoints"]["addressPrefix"]));
        });
    }

    [Test]
    public void PrivateNetwork_On_StorageAndKeyVaultAreReachedThroughPrivateEndpointsWithTheirDnsZones()
    {
        var storage = (string)everything.Single("Microsoft.Storage/storageAccounts")["id"]!;
        var vault = (string)everything.Single("Microsoft.KeyVault/vaults")["id"]!;
        var network = (string)everything.Single("Microsoft.Network/virtualNetworks")["id"]!;
        var endpoints = everything.OfType("Microsoft.Network/privateEndpoints").Select(e => e["properties"]!).ToList();
        var zoneGroups = everything.OfType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups").ToList();

        Assert.Multiple(() =>
        {
            Assert.That(endpoints.Select(e => e["privateLinkServiceConnections"]![0]!["properties"]!).Select(c => ((string)c["groupIds"]![0]!, (string)c["privateLinkServiceId"]!)),
                Is.EquivalentTo(new[] { ("blob", storage), ("queue", storage), ("table", storage), ("vault", vault) }),
                "the host's blobs and queues, the durable backend's queues and tables, the projection's tables, the vault");
            Assert.That(endpoints.Select(e => (string)e["subnet"]!["id"]!).Distinct(), Is.EqualTo(new[] { $"{network}/subnets/private-endpoints" }));
            Assert.That(zoneGroups, Has.Count.EqualTo(4), "each endpoint registers its address in a private DNS zone");
            Assert.That(everything.OfType("Microsoft.Network/privateDnsZones").Count(), Is.EqualTo(4));
            Assert.That(everything.OfType("Microsoft.Network/privateDnsZones/virtualNetworkLinks").Select(l => (string?)l["properties"]!["virtualNetwork"]!["id"]),
                Is.EqualTo(Enumerable.Repeat(network, 4)), "every zone resolves inside the network");
            Assert.That((string?)everything.Single("Microsoft.Storage/storageAccounts")["properties"]!["publicNetworkAccess"], Is.EqualTo("Disabled"));
            Assert.That((string?)everything.Single("Microsoft.Storage/storageAccounts")["properties"]!["networkAcls"]!["defaultAction"], Is.EqualTo("Deny"));
        });
    }

    [Test]
    public void PrivateNetwork_KeyVault_LetsInOnlyTheListedAddresses_OrNoPublicTrafficAtAll()
    {
        var listed = everything.Single("Microsoft.KeyVault/vaults")["properties"]!;
        var closed = privateOnly.Single("Microsoft.KeyVault/vaults")["properties"]!;

        Assert.Multiple(() =>
        {
            Assert.That((string?)listed["publicNetworkAccess"], Is.EqualTo("Enabled"), "the firewall's rules apply only with public access on");
            Assert.That((string?)listed["networkAcls"]!["defaultAction"], Is.EqualTo("Deny"));
            Assert.That(listed["networkAcls"]!["ipRules"]!.AsArray().Select(r => (string?)r!["value"]), Is.EqualTo(new[] { "203.0.113.7", "198.51.100.0/24" }));
            Assert.That((string?)closed["publicNetworkAccess"], Is.EqualTo("Disabled"));
            Assert.That((string?)closed["networkAcls"]!["defaultAction"], Is.EqualTo("Deny"));
        });
    }

    /// <summary>The resource a diagnostic setting (an extension resource) belongs to: its id before <c>/providers/Microsoft.Insights</c>.</summary>
    static string Scope(JsonObject setting)
    {
        var id = (string)setting["id"]!;
        return id[..id.IndexOf("/providers/Microsoft.Insights/diagnosticSettings/", StringComparison.OrdinalIgnoreCase)];
    }
}
