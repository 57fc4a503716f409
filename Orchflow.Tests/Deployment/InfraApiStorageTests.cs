using System.Text.Json.Nodes;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Deployment;

/// <summary>
/// The API's tables in a storage account of their own (<c>apiStorage</c> <c>separate</c>, azd's
/// <c>ORCHFLOW_API_STORAGE</c>), on offline snapshots: the app reads and writes its tables there, while the Functions
/// host, the durable backend and the webhook queue stay on the main account; the second account gives the app table
/// access alone and, on the private network, is reached through a table endpoint of its own. By default there is one
/// account.
/// </summary>
[TestFixture]
public sealed class InfraApiStorageTests
{
    const string Accounts = "Microsoft.Storage/storageAccounts";

    static readonly string TableServiceUri = $"{StorageOptions.Section}__{nameof(StorageOptions.TableServiceUri)}".Replace(":", "__", StringComparison.Ordinal);
    static readonly string QueueServiceUri = $"{StorageOptions.Section}__{nameof(StorageOptions.QueueServiceUri)}".Replace(":", "__", StringComparison.Ordinal);

    TemplateSnapshot defaults = null!;
    TemplateSnapshot everything = null!;
    TemplateSnapshot separate = null!;

    [OneTimeSetUp]
    public async Task TakeSnapshotsAsync()
    {
        defaults = await TemplateScenarios.DefaultsAsync();
        everything = await TemplateScenarios.EverythingAsync();
        separate = await TemplateScenarios.SeparateApiStorageAsync();
    }

    [Test]
    public void Shared_ADeploymentUpgradedWithTheDefault_KeepsItsEndpointNamesAndItsOneAccount()
    {
        Assert.Multiple(() =>
        {
            Assert.That(everything.OfType(Accounts).Count(), Is.EqualTo(1));
            Assert.That(everything.OfType("Microsoft.Network/privateEndpoints").Select(e => ((string)e["name"]!).Split('-')[^1]),
                Is.EquivalentTo(new[] { "blob", "queue", "table", "vault" }), "renamed endpoints would be replaced on the next provision");
        });
    }

    [Test]
    public void Default_OneAccount_HoldsTheApisTablesBesideTheEngine()
    {
        var account = defaults.Single(Accounts);
        Assert.Multiple(() =>
        {
            Assert.That(defaults.AppSettings["AzureWebJobsStorage__accountName"], Is.EqualTo((string)account["name"]!));
            Assert.That(defaults.AppSettings[TableServiceUri], Does.Contain((string)account["name"]!),
                "the app's tables are on the host's and the engine's account");
        });
    }

    [Test]
    public void Separate_TheAppsTablesAreOnTheirOwnAccount_TheHostTheEngineAndTheWebhookQueueStayOnTheMain()
    {
        var (main, api) = Split();
        Assert.Multiple(() =>
        {
            Assert.That((string)api["name"]!, Does.StartWith("stapi"));
            Assert.That(separate.AppSettings["AzureWebJobsStorage__accountName"], Is.EqualTo((string)main["name"]!),
                "the Functions host and the durable backend");
            // Built from the account's name and the cloud's storage suffix, which the snapshot leaves to Azure.
            Assert.That(separate.AppSettings[TableServiceUri],
                Is.EqualTo($"[format('https://{{0}}.table.{{1}}/', '{api["name"]}', environment().suffixes.storage)]"));
            Assert.That(separate.AppSettings[TableServiceUri], Does.Not.Contain((string)main["name"]!));
            Assert.That(separate.AppSettings[QueueServiceUri], Does.Contain((string)main["name"]!),
                "the webhook queue is read by a queue trigger through AzureWebJobsStorage");
        });
    }

    [Test]
    public void Separate_TheApiAccount_GivesTheAppTableAccessAlone_HoldsNoDeploymentContainer_AndIsPrivateOnThePrivateNetwork()
    {
        var (main, api) = Split();
        var apiId = (string)api["id"]!;
        // A snapshot leaves an assignment's id as the expression naming its scope, which is the account's id.
        var grants = separate.OfType("Microsoft.Authorization/roleAssignments")
            .Where(a => ((string)a["id"]!).Contains($"'{apiId}'", StringComparison.OrdinalIgnoreCase))
            .Select(a => ((string)a["properties"]!["roleDefinitionId"]!).Split('/')[^1].TrimEnd(']', '\'', ')'))
            .ToList();
        var endpoints = separate.OfType("Microsoft.Network/privateEndpoints")
            .Select(e => e["properties"]!["privateLinkServiceConnections"]![0]!["properties"]!)
            .Select(c => ((string)c["groupIds"]![0]!, (string)c["privateLinkServiceId"]!))
            .ToList();
        Assert.Multiple(() =>
        {
            Assert.That(grants, Has.Count.EqualTo(1).And.All.Contains("0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"), "Storage Table Data Contributor, and nothing else");
            Assert.That(separate.OfType("Microsoft.Storage/storageAccounts/blobServices/containers").Select(c => (string)c["id"]!),
                Has.None.StartsWith(apiId + "/"), "the app package is deployed from the main account");
            Assert.That(endpoints.Where(e => string.Equals(e.Item2, apiId, StringComparison.OrdinalIgnoreCase)).Select(e => e.Item1), Is.EqualTo(new[] { "table" }));
            Assert.That(endpoints.Where(e => string.Equals(e.Item2, (string)main["id"]!, StringComparison.OrdinalIgnoreCase)).Select(e => e.Item1),
                Is.EquivalentTo(new[] { "blob", "queue", "table" }));
            var apiEndpoint = separate.OfType("Microsoft.Network/privateEndpoints")
                .Single(e => ((string)e["name"]!).EndsWith("-api-table", StringComparison.Ordinal));
            var zones = separate.OfType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups")
                .Where(g => ((string)g["name"]!).StartsWith((string)apiEndpoint["name"]! + "/", StringComparison.Ordinal))
                .SelectMany(g => g["properties"]!["privateDnsZoneConfigs"]!.AsArray())
                .Select(c => (string)c!["properties"]!["privateDnsZoneId"]!)
                .ToList();
            // The zone's name is left to Azure (the cloud's storage suffix): privatelink.table.<suffix>.
            Assert.That(zones, Has.Count.EqualTo(1).And.All.Contains("format('privatelink.{0}.{1}', 'table', environment().suffixes.storage)"),
                "its address is registered in the table zone, beside the main account's");
            Assert.That((string?)api["properties"]!["publicNetworkAccess"], Is.EqualTo("Disabled"));
            Assert.That(api["properties"]!["allowSharedKeyAccess"]!.GetValue<bool>(), Is.False);
        });
    }

    (JsonObject Main, JsonObject Api) Split()
    {
        var accounts = separate.OfType(Accounts).ToList();
        Assert.That(accounts, Has.Count.EqualTo(2), "the main account and the API's");
        return (accounts.Single(a => !((string)a["name"]!).StartsWith("stapi", StringComparison.Ordinal)),
            accounts.Single(a => ((string)a["name"]!).StartsWith("stapi", StringComparison.Ordinal)));
    }
}
