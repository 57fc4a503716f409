using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>Orchflow:Storage at start-up: somewhere to store, table names storage accepts, a freshness window in range.</summary>
[TestFixture]
public sealed class StorageOptionsValidationTests
{
    readonly StorageOptionsValidation validation = new();

    [Test]
    public void Validate_ConnectionStringAndDefaults_Succeeds() =>
        Assert.That(validation.Errors(new StorageOptions { ConnectionString = "UseDevelopmentStorage=true" }), Is.Empty);

    [Test]
    public void Validate_EndpointsInsteadOfAConnectionString_Succeeds() =>
        Assert.That(validation.Errors(new StorageOptions
        {
            TableServiceUri = "https://acct.table.core.windows.net/", QueueServiceUri = "https://acct.queue.core.windows.net/",
        }), Is.Empty);

    [Test]
    public void Validate_NothingToStoreIn_NamesBothEndpoints() =>
        Assert.That(validation.Errors(new StorageOptions()), Is.EqualTo(new[]
        {
            "Orchflow:Storage:TableServiceUri is required when Orchflow:Storage:ConnectionString is not set.",
            "Orchflow:Storage:QueueServiceUri is required when Orchflow:Storage:ConnectionString is not set.",
        }));

    [TestCase("")]
    [TestCase("t0123456789")]
    public void Validate_TablePrefixStorageAccepts_Succeeds(string prefix) =>
        Assert.That(validation.Errors(new StorageOptions { ConnectionString = "UseDevelopmentStorage=true", TablePrefix = prefix }), Is.Empty);

    [Test]
    public void Validate_EverySettingWrong_ReportsEachByName()
    {
        var errors = validation.Errors(new StorageOptions
        {
            TableServiceUri = "acct.table", QueueServiceUri = "ftp://acct.queue", TablePrefix = "orch-flow", ReadFreshnessMs = 10_001,
            KnownRunsCapacity = 1_000,
        });

        Assert.That(errors, Is.EqualTo(new[]
        {
            "Orchflow:Storage:TableServiceUri must be an absolute https or http URL, not 'acct.table'.",
            "Orchflow:Storage:QueueServiceUri must be an absolute https or http URL, not 'ftp://acct.queue'.",
            "Orchflow:Storage:TablePrefix must be up to 46 letters and digits, beginning with a letter, not 'orch-flow'.",
            "Orchflow:Storage:ReadFreshnessMs must be from 0 to 10000, not 10001.",
            "Orchflow:Storage:KnownRunsCapacity must be from 1000000 to 4000000000, not 1000.",
        }));
    }

    [TestCase("1orchflow")]
    [TestCase("a23456789012345678901234567890123456789012345678")]
    public void Validate_TablePrefixStorageRefuses_FailsNamingIt(string prefix) =>
        Assert.That(validation.Errors(new StorageOptions { ConnectionString = "UseDevelopmentStorage=true", TablePrefix = prefix }),
            Has.One.StartsWith("Orchflow:Storage:TablePrefix must be"));
}
