using Azure.Data.Tables;
using Azure.Identity;
using Microsoft.Extensions.Options;

namespace Orchflow.Infrastructure.Storage;

/// <summary>The Table Storage tables Orchflow uses, created on first use.</summary>
public sealed class OrchflowTables
{
    readonly TableServiceClient service;
    Task? created;

    public OrchflowTables(IOptions<StorageOptions> options)
        : this(options, new TableClientOptions())
    {
    }

    /// <summary>With client options of the caller's: tests put a pipeline policy in them to make one request fail.</summary>
    internal OrchflowTables(IOptions<StorageOptions> options, TableClientOptions clientOptions)
    {
        var o = options.Value;
        service = !string.IsNullOrWhiteSpace(o.ConnectionString)
            ? new TableServiceClient(o.ConnectionString, clientOptions)
            : !string.IsNullOrWhiteSpace(o.TableServiceUri)
                ? new TableServiceClient(new Uri(o.TableServiceUri), new DefaultAzureCredential(), clientOptions)
                : throw new InvalidOperationException(
                    $"Set {StorageOptions.Section}:ConnectionString or {StorageOptions.Section}:TableServiceUri.");

        Runs = service.GetTableClient(o.TablePrefix + "Runs");
        RunTasks = service.GetTableClient(o.TablePrefix + "RunTasks");
        Accounts = service.GetTableClient(o.TablePrefix + "Accounts");
        Providers = service.GetTableClient(o.TablePrefix + "Providers");
        Secrets = service.GetTableClient(o.TablePrefix + "Secrets");
        RateLimits = service.GetTableClient(o.TablePrefix + "RateLimits");
        Idempotency = service.GetTableClient(o.TablePrefix + "Idempotency");
        Webhooks = service.GetTableClient(o.TablePrefix + "Webhooks");
        WebhookDeliveries = service.GetTableClient(o.TablePrefix + "WebhookDeliveries");
        ToolServers = service.GetTableClient(o.TablePrefix + "ToolServers");
        Erasures = service.GetTableClient(o.TablePrefix + "Erasures");
        All = [Runs, RunTasks, Accounts, Providers, Secrets, RateLimits, Idempotency, Webhooks, WebhookDeliveries, ToolServers, Erasures];
    }

    /// <summary>
    /// Every table of the app, the one list that creates them: the erasure tests search each of these for what an erased
    /// account or run left, and fail on a table of the prefix that is not here, so a new table cannot be forgotten.
    /// </summary>
    public IReadOnlyList<TableClient> All { get; }

    /// <summary>Runs by account: PK account id, RK run id (run ids sort newest first).</summary>
    public TableClient Runs { get; }

    /// <summary>Tasks and large texts by run: PK run id, RK task id, or a chunk of a long text.</summary>
    public TableClient RunTasks { get; }

    /// <summary>Accounts, API key hashes and registered emails, each under its own partition key.</summary>
    public TableClient Accounts { get; }

    /// <summary>Providers by account: PK account id, RK provider id.</summary>
    public TableClient Providers { get; }

    /// <summary>Envelope-encrypted provider keys for the local secret store.</summary>
    public TableClient Secrets { get; }

    /// <summary>Shared token buckets of the API's rate limits: PK the bucket, one row each.</summary>
    public TableClient RateLimits { get; }

    /// <summary>Idempotency keys and the answers they replay: PK the account, RK a hash of the key.</summary>
    public TableClient Idempotency { get; }

    /// <summary>Webhooks by account: PK account id, RK webhook id.</summary>
    public TableClient Webhooks { get; }

    /// <summary>Webhook deliveries by webhook: PK webhook id, RK newest event first, then the delivery id.</summary>
    public TableClient WebhookDeliveries { get; }

    /// <summary>MCP tool servers by account: PK account id, RK server id; each row holds the server's tool list.</summary>
    public TableClient ToolServers { get; }

    /// <summary>Erasures asked for and not yet complete (an account, or one run): PK <c>pending</c>, one row each.</summary>
    public TableClient Erasures { get; }

    /// <summary>Creates the tables once per process; a failed attempt (storage not up yet) is tried again next time.</summary>
    public Task EnsureCreatedAsync()
    {
        var attempt = created;
        if (attempt is null || attempt.IsFaulted || attempt.IsCanceled)
        {
            created = attempt = CreateAllAsync();
        }

        return attempt;
    }

    async Task CreateAllAsync()
    {
        foreach (var table in All)
        {
            await table.CreateIfNotExistsAsync();
        }
    }
}
