using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Orchflow.Client;

/// <summary>
/// Orchflow's API for .NET: a typed method per route, a run's events as an <see cref="IAsyncEnumerable{T}"/> that
/// resumes by itself, retries that are safe to make, and every error answer as an <see cref="OrchflowProblemException"/>.
/// </summary>
public sealed partial class OrchflowClient : IDisposable
{
    readonly HttpClient http;
    readonly bool ownsHttp;
    readonly OrchflowClientOptions options;

    /// <summary>
    /// A client of the API at <paramref name="baseAddress"/> (such as <c>http://127.0.0.1:7071/api/v1</c>) with
    /// <paramref name="apiKey"/>; give it an <paramref name="httpClient"/> from your own factory if you have one.
    /// </summary>
    public OrchflowClient(Uri baseAddress, string? apiKey, HttpClient? httpClient = null, OrchflowClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        ownsHttp = httpClient is null;
        http = httpClient ?? new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        BaseAddress = baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress : new Uri(baseAddress.AbsoluteUri + "/");
        ApiKey = apiKey;
        this.options = options ?? new OrchflowClientOptions();
    }

    /// <summary>The API's base address, ending in a slash.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The API key sent as <c>X-API-Key</c>; null for the public routes only.</summary>
    public string? ApiKey { get; }

    /// <summary>Registers an account at <paramref name="baseAddress"/> and returns it with its key, shown this once.</summary>
    public static async Task<Account> RegisterAsync(Uri baseAddress, string name, string email, CancellationToken cancellationToken = default)
    {
        using var anonymous = new OrchflowClient(baseAddress, apiKey: null);
        return await anonymous.SendAsync<Account>(HttpMethod.Post, "auth/register", new { name, email }, null, cancellationToken);
    }

    /// <summary>The caller's account.</summary>
    public Task<AccountView> GetAccountAsync(CancellationToken cancellationToken = default) =>
        SendAsync<AccountView>(HttpMethod.Get, "account", null, null, cancellationToken);

    /// <summary>Starts a run of <paramref name="task"/> with every option left to its default.</summary>
    public Task<Run> StartRunAsync(string task, CancellationToken cancellationToken = default) =>
        StartRunAsync(new StartRunRequest(task), null, cancellationToken);

    /// <summary>Starts a run; it returns at once, queued, and plans in the background.</summary>
    public Task<Run> StartRunAsync(StartRunRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<Run>(HttpMethod.Post, "runs", request, idempotencyKey, cancellationToken);

    /// <summary>A page of the account's runs, newest first.</summary>
    public Task<RunList> ListRunsAsync(int limit = 20, int offset = 0, CancellationToken cancellationToken = default) =>
        SendAsync<RunList>(HttpMethod.Get, FormattableString.Invariant($"runs?limit={limit}&offset={offset}"), null, null, cancellationToken);

    /// <summary>A run, with its tasks by id.</summary>
    public Task<Run> GetRunAsync(string runId, CancellationToken cancellationToken = default) =>
        SendAsync<Run>(HttpMethod.Get, $"runs/{Segment(runId)}", null, null, cancellationToken);

    /// <summary>A run's tasks in order.</summary>
    public Task<TaskList> GetRunTasksAsync(string runId, CancellationToken cancellationToken = default) =>
        SendAsync<TaskList>(HttpMethod.Get, $"runs/{Segment(runId)}/tasks", null, null, cancellationToken);

    /// <summary>Cancels a run (again: no harm); a completed or failed one is a 409.</summary>
    public Task<Run> CancelRunAsync(string runId, CancellationToken cancellationToken = default) =>
        SendAsync<Run>(HttpMethod.Delete, $"runs/{Segment(runId)}", null, null, cancellationToken);

    /// <summary>Continues a failed or cancelled run from where it stopped.</summary>
    public Task<Run> RetryRunAsync(string runId, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<Run>(HttpMethod.Post, $"runs/{Segment(runId)}/retry", null, idempotencyKey, cancellationToken);

    /// <summary>Answers a task that waits for a person: see <see cref="CompleteTaskRequest.Answer"/> and its siblings.</summary>
    public Task<RunTask> CompleteTaskAsync(string runId, string taskId, CompleteTaskRequest answer, string? idempotencyKey = null,
        CancellationToken cancellationToken = default) =>
        SendAsync<RunTask>(HttpMethod.Post, $"runs/{Segment(runId)}/tasks/{Segment(taskId)}/complete", answer, idempotencyKey, cancellationToken);

    /// <summary>Approves, edits or sends back the plan a run waits on.</summary>
    public Task<Run> ReviewPlanAsync(string runId, ReviewPlanRequest review, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<Run>(HttpMethod.Post, $"runs/{Segment(runId)}/plan/review", review, idempotencyKey, cancellationToken);

    /// <summary>A page of a run's event log: the events after <paramref name="after"/>.</summary>
    public Task<RunEventPage> GetRunEventsAsync(string runId, long after = 0, int limit = 100, CancellationToken cancellationToken = default) =>
        SendAsync<RunEventPage>(HttpMethod.Get, FormattableString.Invariant($"runs/{Segment(runId)}/events?after={after}&limit={limit}"), null, null,
            cancellationToken);

    /// <summary>Closes the account: its keys stop working, its runs are cancelled, and everything it owns is erased.</summary>
    public Task CloseAccountAsync(CancellationToken cancellationToken = default) =>
        SendAsync<NoContent>(HttpMethod.Delete, "account", null, null, cancellationToken);

    /// <summary>Issues another API key for the account; the key is in the answer, this once.</summary>
    public Task<CreatedKey> CreateKeyAsync(string label, CancellationToken cancellationToken = default) =>
        SendAsync<CreatedKey>(HttpMethod.Post, "auth/keys", new CreateKeyRequest(label), null, cancellationToken);

    /// <summary>The account's API keys, with no key material.</summary>
    public async Task<IReadOnlyList<ApiKey>> ListKeysAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync<ApiKeyList>(HttpMethod.Get, "auth/keys", null, null, cancellationToken)).Keys;

    /// <summary>Revokes an API key (never the account's last); every instance refuses it within 5 seconds.</summary>
    public Task RevokeKeyAsync(string keyId, CancellationToken cancellationToken = default) =>
        SendAsync<NoContent>(HttpMethod.Delete, $"auth/keys/{Segment(keyId)}", null, null, cancellationToken);

    /// <summary>Cancels the run if it is still going and erases it: from then on it answers 404.</summary>
    public Task PurgeRunAsync(string runId, CancellationToken cancellationToken = default) =>
        SendAsync<NoContent>(HttpMethod.Delete, $"runs/{Segment(runId)}?purge=true", null, null, cancellationToken);

    /// <summary>Registers a provider with its own key.</summary>
    public Task<Provider> CreateProviderAsync(CreateProviderRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync<Provider>(HttpMethod.Post, "providers", request, idempotencyKey, cancellationToken);

    /// <summary>The account's providers, with no key material.</summary>
    public async Task<IReadOnlyList<Provider>> ListProvidersAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync<ProviderList>(HttpMethod.Get, "providers", null, null, cancellationToken)).Providers;

    /// <summary>Deletes a provider.</summary>
    public Task DeleteProviderAsync(string providerId, CancellationToken cancellationToken = default) =>
        SendAsync<NoContent>(HttpMethod.Delete, $"providers/{Segment(providerId)}", null, null, cancellationToken);

    /// <summary>The built-in agents.</summary>
    public async Task<IReadOnlyList<AgentTemplate>> ListAgentTemplatesAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync<AgentTemplateList>(HttpMethod.Get, "agents/templates", null, null, cancellationToken)).Agents;

    /// <summary>Whether the service and its storage answer.</summary>
    public Task<Health> GetHealthAsync(CancellationToken cancellationToken = default) =>
        SendAsync<Health>(HttpMethod.Get, "health", null, null, cancellationToken);

    /// <summary>The API's OpenAPI document.</summary>
    public Task<JsonDocument> GetOpenApiDocumentAsync(CancellationToken cancellationToken = default) =>
        SendAsync<JsonDocument>(HttpMethod.Get, "openapi.json", null, null, cancellationToken);

    /// <summary>Registers a webhook endpoint; its secret is in the answer, this once.</summary>
    public Task<WebhookWithSecret> CreateWebhookAsync(CreateWebhookRequest request, string? idempotencyKey = null,
        CancellationToken cancellationToken = default) =>
        SendAsync<WebhookWithSecret>(HttpMethod.Post, "webhooks", request, idempotencyKey, cancellationToken);

    /// <summary>The account's webhook endpoints, without secrets.</summary>
    public async Task<IReadOnlyList<Webhook>> ListWebhooksAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync<WebhookList>(HttpMethod.Get, "webhooks", null, null, cancellationToken)).Webhooks;

    /// <summary>Deletes a webhook endpoint.</summary>
    public Task DeleteWebhookAsync(string webhookId, CancellationToken cancellationToken = default) =>
        SendAsync<NoContent>(HttpMethod.Delete, $"webhooks/{Segment(webhookId)}", null, null, cancellationToken);

    /// <summary>Gives a webhook endpoint a new secret; the old one signs beside it for 24 hours.</summary>
    public Task<WebhookRotatedSecret> RotateWebhookSecretAsync(string webhookId, CancellationToken cancellationToken = default) =>
        SendAsync<WebhookRotatedSecret>(HttpMethod.Post, $"webhooks/{Segment(webhookId)}/rotate-secret", null, null, cancellationToken);

    /// <summary>A webhook endpoint's latest deliveries, newest first.</summary>
    public async Task<IReadOnlyList<WebhookDelivery>> ListWebhookDeliveriesAsync(string webhookId, int limit = 20,
        CancellationToken cancellationToken = default) =>
        (await SendAsync<WebhookDeliveryList>(HttpMethod.Get, FormattableString.Invariant($"webhooks/{Segment(webhookId)}/deliveries?limit={limit}"),
            null, null, cancellationToken)).Deliveries;

    /// <summary>Registers an MCP server as a source of tools, after listing its tools.</summary>
    public Task<ToolServer> CreateToolServerAsync(CreateToolServerRequest request, string? idempotencyKey = null,
        CancellationToken cancellationToken = default) =>
        SendAsync<ToolServer>(HttpMethod.Post, "tool-servers", request, idempotencyKey, cancellationToken);

    /// <summary>The account's tool servers.</summary>
    public async Task<IReadOnlyList<ToolServer>> ListToolServersAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync<ToolServerList>(HttpMethod.Get, "tool-servers", null, null, cancellationToken)).ToolServers;

    /// <summary>One tool server.</summary>
    public Task<ToolServer> GetToolServerAsync(string serverId, CancellationToken cancellationToken = default) =>
        SendAsync<ToolServer>(HttpMethod.Get, $"tool-servers/{Segment(serverId)}", null, null, cancellationToken);

    /// <summary>Lists a tool server's tools again.</summary>
    public Task<ToolServer> RefreshToolServerAsync(string serverId, CancellationToken cancellationToken = default) =>
        SendAsync<ToolServer>(HttpMethod.Post, $"tool-servers/{Segment(serverId)}/refresh", null, null, cancellationToken);

    /// <summary>Deletes a tool server.</summary>
    public Task DeleteToolServerAsync(string serverId, CancellationToken cancellationToken = default) =>
        SendAsync<NoContent>(HttpMethod.Delete, $"tool-servers/{Segment(serverId)}", null, null, cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        if (ownsHttp)
        {
            http.Dispose();
        }
    }

    static string Segment(string value) => Uri.EscapeDataString(value);

    // The list bodies, unwrapped by the methods above.
    sealed record ProviderList(IReadOnlyList<Provider> Providers);
    sealed record ApiKeyList(IReadOnlyList<ApiKey> Keys);
    sealed record CreateKeyRequest(string Label);
    sealed record AgentTemplateList(IReadOnlyList<AgentTemplate> Agents);
    sealed record WebhookList(IReadOnlyList<Webhook> Webhooks);
    sealed record WebhookDeliveryList(IReadOnlyList<WebhookDelivery> Deliveries);
    sealed record ToolServerList(IReadOnlyList<ToolServer> ToolServers);
    sealed record NoContent;
}
