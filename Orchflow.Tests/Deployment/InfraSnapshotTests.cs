using System.Globalization;
using System.Text.Json.Nodes;
using Orchflow.Functions.Functions;
using Orchflow.Functions.Http.RateLimiting;
using Orchflow.Infrastructure;
using Orchflow.Infrastructure.Secrets;
using Orchflow.Infrastructure.Storage;
using Orchflow.Models;
using Orchflow.Webhooks;

namespace Orchflow.Tests.Deployment;

/// <summary>
/// What the Function App gets from infra/main.bicep with given azd parameters, on offline snapshots: the settings the
/// app needs and nothing secret in them, no durable settings beside host.json's, the scheduler refused, the Flex plan's
/// warm instances and concurrency, sampled telemetry, and CORS left to the app.
/// </summary>
[TestFixture]
public sealed class InfraSnapshotTests
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
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
        Key(StorageOptions.Section, nameof(StorageOptions.TableServiceUri)),
        Key(StorageOptions.Section, nameof(StorageOptions.TablePrefix)),
        Key(StorageOptions.Section, nameof(StorageOptions.QueueServiceUri)),
        WebhookOptions.QueueSetting,
        Key(SecretsOptions.Section, nameof(SecretsOptions.VaultUri)),
        Key(SecurityOptions.Section, nameof(SecurityOptions.ApiKeyPepper)),
        Key(AccountOptions.Section, nameof(AccountOptions.TrialRuns)),
        Key(RateLimitOptions.Section, nameof(RateLimitOptions.ClientAddressHeader)),
    ];

    static readonly string[] ManagedModelKeys =
    [
        Key(ManagedModelOptions.Section, nameof(ManagedModelOptions.Provider)),
        Key(ManagedModelOptions.Section, nameof(ManagedModelOptions.Model)),
        Key(ManagedModelOptions.Section, nameof(ManagedModelOptions.Endpoint)),
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
        [Key(WebhookOptions.Section, nameof(WebhookOptions.Queue))] = "the queue's name is the flat ORCHFLOW_WEBHOOK_QUEUE, which the scale controller resolves",
    };

    TemplateSnapshot defaults = null!;
    TemplateSnapshot everything = null!;

    [OneTimeSetUp]
    public async Task TakeSnapshotsAsync()
    {
        defaults = await TemplateScenarios.DefaultsAsync();
        everything = await TemplateScenarios.EverythingAsync();
    }

    [Test]
    public void AppSettings_SetEveryProductionConfigurationKey()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ProductionKeys.Where(k => !defaults.AppSettings.ContainsKey(k)), Is.Empty, "keys azd's defaults do not set");
            Assert.That(ProductionKeys.Concat(ManagedModelKeys).Where(k => !everything.AppSettings.ContainsKey(k)), Is.Empty,
                "keys the template does not set with a managed model");
        });
    }

    [Test]
    public void AppSettings_HoldNoKeyOrKeyBasedConnectionString_AndSecretsAreKeyVaultReferences()
    {
        Assert.Multiple(() =>
        {
            foreach (var (key, why) in ForbiddenKeys)
            {
                Assert.That(everything.AppSettings.ContainsKey(key) || defaults.AppSettings.ContainsKey(key), Is.False, $"{key} is set: {why}");
            }

            var vault = (string)everything.Single("Microsoft.KeyVault/vaults")["name"]!;
            Assert.That(everything.AppSettings[Key(SecurityOptions.Section, nameof(SecurityOptions.ApiKeyPepper))],
                Is.EqualTo($"@Microsoft.KeyVault(VaultName={vault};SecretName=api-key-pepper)"));
            Assert.That(everything.AppSettings[Key(ManagedModelOptions.Section, nameof(ManagedModelOptions.ApiKey))],
                Is.EqualTo($"@Microsoft.KeyVault(VaultName={vault};SecretName=managed-model-api-key)"));
            var site = everything.Single("Microsoft.Web/sites");
            Assert.That((string?)site["properties"]!["keyVaultReferenceIdentity"], Is.EqualTo((string?)everything.Single("Microsoft.ManagedIdentity/userAssignedIdentities")["id"]),
                "references are resolved with the app's identity");
        });
    }

    [Test]
    public void ManagedModel_NotConfigured_NoManagedModelSettingAndNoReferenceToItsSecret()
    {
        Assert.Multiple(() =>
        {
            Assert.That(defaults.AppSettings.Keys.Where(k => k.StartsWith("Orchflow__ManagedModel__", StringComparison.Ordinal)), Is.Empty);
            Assert.That(defaults.AppSettings.Values.Where(v => v.Contains("managed-model-api-key", StringComparison.Ordinal)), Is.Empty,
                "a reference to a secret nobody set stays unresolved, and the app refuses to start on it");
            Assert.That(everything.AppSettings[Key(ManagedModelOptions.Section, nameof(ManagedModelOptions.Provider))], Is.EqualTo("openai"));
            Assert.That(everything.AppSettings[Key(ManagedModelOptions.Section, nameof(ManagedModelOptions.Model))], Is.EqualTo("gpt-4o-mini"));
        });
    }

    [Test]
    public void WebhookQueue_IsAFlatSettingTheQueueTriggerNames()
    {
        var queue = defaults.AppSettings[WebhookOptions.QueueSetting];

        Assert.Multiple(() =>
        {
            Assert.That(WebhookQueueFunctions.QueueSetting, Is.EqualTo($"%{WebhookOptions.QueueSetting}%"));
            Assert.That(WebhookOptions.QueueSetting, Does.Not.Contain(":").And.Not.Contain("__"), "the scale controller fails on nested names");
            Assert.That(new WebhookOptionsValidation().Validate(null, new WebhookOptions { Queue = queue }).Succeeded, Is.True, $"'{queue}' is a queue name");
        });
    }

    [Test]
    public void DurableBackend_AppSettingsLeaveEveryDurableSettingToHostJson()
    {
        Assert.Multiple(() =>
        {
            foreach (var snapshot in new[] { defaults, everything })
            {
                Assert.That(snapshot.AppSettings.Keys.Where(k => k.StartsWith("AzureFunctionsJobHost__extensions__durableTask", StringComparison.OrdinalIgnoreCase)), Is.Empty,
                    "Flex's scaler reads the durable settings from host.json only: an app setting would make the two disagree");
                Assert.That(snapshot.Resources.Select(r => (string?)r["type"]).Where(t => t!.StartsWith("Microsoft.DurableTask/", StringComparison.OrdinalIgnoreCase)), Is.Empty);
            }
        });
    }

    [Test]
    public void DurableBackend_DurableTaskScheduler_IsRefusedSayingWhyAndWhatToDo()
    {
        var refusal = TemplateSnapshot.Refusal(new Dictionary<string, object> { ["durableBackend"] = "DurableTaskScheduler" });

        Assert.That(refusal, Does.Contain("ORCHFLOW_DURABLE_BACKEND=DurableTaskScheduler is not supported yet")
            .And.Contain("Microsoft.Azure.Functions.Worker.Extensions.DurableTask.AzureManaged")
            .And.Contain("azd env set ORCHFLOW_DURABLE_BACKEND AzureStorage"));
    }

    [Test]
    public void FlexPlan_KeepsOneDurableInstanceWarmByDefault_AndHttpOnlyWhenAsked()
    {
        static JsonNode Scale(TemplateSnapshot s) => s.Single("Microsoft.Web/sites")["properties"]!["functionAppConfig"]!["scaleAndConcurrency"]!;

        Assert.Multiple(() =>
        {
            Assert.That(Scale(defaults)["alwaysReady"]!.ToJsonString(), Is.EqualTo("""[{"name":"durable","instanceCount":1}]"""),
                "idle runs' next steps do not wait on a cold start");
            Assert.That(Scale(everything)["alwaysReady"]!.ToJsonString(), Is.EqualTo("""[{"name":"http","instanceCount":2},{"name":"durable","instanceCount":1}]"""));
        });
    }

    [Test]
    public void FlexPlan_SetsHttpPerInstanceConcurrencyForOpenStreams()
    {
        var http = defaults.Single("Microsoft.Web/sites")["properties"]!["functionAppConfig"]!["scaleAndConcurrency"]!["triggers"]!["http"]!;

        // Each open event stream holds a slot; the platform's default for 2048 MB (16) would add an instance per 16 watchers.
        Assert.That(http["perInstanceConcurrency"]!.GetValue<int>(), Is.EqualTo(100));
    }

    [Test]
    public void Telemetry_SamplesTracesWithASamplerTheExporterReads_AndLogsWarningsByDefault()
    {
        var sampler = defaults.AppSettings["OTEL_TRACES_SAMPLER"];
        var argument = defaults.AppSettings["OTEL_TRACES_SAMPLER_ARG"];

        Assert.Multiple(() =>
        {
            // The Azure Monitor exporter reads these two names only; any other sampler name it ignores, keeping every trace.
            Assert.That(sampler, Is.EqualTo("microsoft.rate_limited"));
            Assert.That(double.TryParse(argument, NumberStyles.Float, CultureInfo.InvariantCulture, out var perSecond) && perSecond > 0, Is.True, $"traces per second: {argument}");
            Assert.That(defaults.AppSettings["Logging__LogLevel__Default"], Is.EqualTo("Warning"));
            Assert.That(defaults.AppSettings["Logging__LogLevel__Orchflow"], Is.EqualTo("Information"));
        });
    }

    [Test]
    public void Cors_IsTheAppsAlone_ThePlatformAllowsNoOrigin()
    {
        Assert.Multiple(() =>
        {
            foreach (var snapshot in new[] { defaults, everything })
            {
                var cors = snapshot.Single("Microsoft.Web/sites")["properties"]!["siteConfig"]!["cors"]!;
                Assert.That(cors["allowedOrigins"]!.AsArray(), Is.Empty, "with the platform's CORS on, the app's headers (ETag exposed) would be dropped");
            }

            Assert.That(defaults.AppSettings.Keys.Where(k => k.StartsWith("Orchflow__Cors__", StringComparison.Ordinal)), Is.Empty, "no origin by default");
            Assert.That(everything.AppSettings.Where(s => s.Key.StartsWith("Orchflow__Cors__", StringComparison.Ordinal)), Is.EquivalentTo(new Dictionary<string, string>
            {
                ["Orchflow__Cors__AllowedOrigins__0"] = "https://app.example.com",
                ["Orchflow__Cors__AllowedOrigins__1"] = "http://localhost:5173",
            }), "one comma-separated azd setting, trimmed");
        });
    }

    static string Key(string section, string name) => $"{section.Replace(":", "__", StringComparison.Ordinal)}__{name}";
}
