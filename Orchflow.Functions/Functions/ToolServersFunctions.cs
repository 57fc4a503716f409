using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Http;
using Orchflow.Functions.Http.Idempotency;
using Orchflow.Infrastructure.Network;
using Orchflow.Tools;

namespace Orchflow.Functions.Functions;

/// <summary>
/// MCP tool servers of an account: register (Orchflow connects and lists the tools first), list, read, list the tools
/// again, delete. Header values go to the secret store only; the server's row names the headers and the secret.
/// </summary>
public sealed class ToolServersFunctions(
    IToolServerStore store,
    ISecretStore secrets,
    ToolServers toolServers,
    AddressPolicy addresses,
    TimeProvider clock,
    ILogger<ToolServersFunctions> log)
{
    public const int MaxUrlLength = 2_000;
    public const int MaxLabelLength = 100;

    [Function(nameof(CreateToolServer))]
    [Idempotent]
    public async Task<IActionResult> CreateToolServer(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = FunctionCatalog.Api + "/tool-servers")] HttpRequest req,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var (body, problem) = await RequestBody.ReadAsync<CreateToolServerRequest>(req, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var v = new Validation();
        var url = v.Text("url", body!.Url, MaxUrlLength, required: true);
        if (url is { Length: > 0 } && body.Url!.Length <= MaxUrlLength &&
            OutboundUrls.Problem("url", url, addresses, "a server on this machine", "send credentials in 'headers' instead") is { } urlProblem)
        {
            v.Add("url", urlProblem);
        }

        var label = v.Text("label", body.Label, MaxLabelLength, required: false);
        var headers = Headers(body.Headers, v);
        if (!v.IsValid)
        {
            return v.Problem();
        }

        // Refused before the server is probed when the account is plainly full; the guarded add below has the last word.
        var existing = await store.ListAsync(caller.AccountId, cancellationToken);
        if (existing.Count >= ToolLimits.MaxServersPerAccount)
        {
            return TooMany();
        }

        var probe = await toolServers.ProbeAsync(url!, headers, cancellationToken);
        if (probe.Problem is { } unusable)
        {
            return Problems.Validation("url", unusable);
        }

        var serverId = Ids.NewToolServerId();
        var now = clock.GetUtcNow();
        var record = new ToolServerRecord(
            caller.AccountId, serverId, url!, string.IsNullOrEmpty(label) ? new Uri(url!).Host : label, headers.Keys.ToList(),
            headers.Count > 0 ? ToolServerHeaders.SecretName(caller.AccountId, serverId) : null, probe.Tools, probe.Truncated, now, now);

        // The secret first: a server row must never name a secret that is not there; a row refused leaves no secret behind.
        if (record.SecretName is { } secretName)
        {
            await secrets.SetAsync(secretName, ToolServerHeaders.Serialize(headers), cancellationToken);
        }

        if (!await store.TryCreateAsync(record, ToolLimits.MaxServersPerAccount, CancellationToken.None))
        {
            if (record.SecretName is { } refused)
            {
                await secrets.DeleteAsync(refused, CancellationToken.None);
            }

            return TooMany();
        }

        log.LogInformation("Tool server {ServerId} registered for account {AccountId} ({ToolCount} tools)", serverId, caller.AccountId, record.Tools.Count);
        // The body holds no header value, but it answers a request that carried them: nothing on the way should keep it.
        return ApiResult.Created(ToolServerView.Of(record), $"{FunctionCatalog.ApiBase}/tool-servers/{serverId}").NoStore();
    }

    static ApiResult TooMany() => Problems.LimitReached(
        $"This account has {ToolLimits.MaxServersPerAccount} tool servers, the most it may have; delete one with DELETE /api/v1/tool-servers/{{server_id}} first.");

    [Function(nameof(ListToolServers))]
    public async Task<IActionResult> ListToolServers(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionCatalog.Api + "/tool-servers")] HttpRequest req,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var list = await store.ListAsync(caller.AccountId, cancellationToken);
        return ApiResult.Ok(new ToolServerListView(list.Select(ToolServerView.Of).ToList()));
    }

    [Function(nameof(GetToolServer))]
    public async Task<IActionResult> GetToolServer(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionCatalog.Api + "/tool-servers/{serverId}")] HttpRequest req,
        string serverId,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        return await FindAsync(caller.AccountId, serverId, cancellationToken) is { } server
            ? ApiResult.Ok(ToolServerView.Of(server))
            : NotFound(serverId);
    }

    [Function(nameof(RefreshToolServer))]
    public async Task<IActionResult> RefreshToolServer(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = FunctionCatalog.Api + "/tool-servers/{serverId}/refresh")] HttpRequest req,
        string serverId,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var server = await FindAsync(caller.AccountId, serverId, cancellationToken);
            if (server is null)
            {
                return NotFound(serverId);
            }

            var probe = await toolServers.ProbeAsync(server.Url, await toolServers.HeadersAsync(server, cancellationToken), cancellationToken);
            if (probe.Problem is { } unusable)
            {
                return Problems.Validation("url", unusable + " Its tools stay as last listed.");
            }

            var refreshed = server with { Tools = probe.Tools, ToolsTruncated = probe.Truncated, RefreshedAt = clock.GetUtcNow() };
            if (await store.TryReplaceAsync(refreshed, cancellationToken))
            {
                toolServers.Forget(serverId);
                log.LogInformation("Tool server {ServerId} refreshed ({ToolCount} tools)", serverId, refreshed.Tools.Count);
                return ApiResult.Ok(ToolServerView.Of(refreshed));
            }
        }

        return Problems.Conflict($"Tool server '{serverId}' kept changing while its tools were listed again; try again.");
    }

    [Function(nameof(DeleteToolServer))]
    public async Task<IActionResult> DeleteToolServer(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = FunctionCatalog.Api + "/tool-servers/{serverId}")] HttpRequest req,
        string serverId,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var server = await FindAsync(caller.AccountId, serverId, cancellationToken);
        if (server is null)
        {
            return NotFound(serverId);
        }

        // The row first, as it was created last: a server row must never name a secret that is not there.
        await store.DeleteAsync(caller.AccountId, serverId, cancellationToken);
        if (server.SecretName is { } secretName)
        {
            await secrets.DeleteAsync(secretName, cancellationToken);
        }

        toolServers.Forget(serverId);
        log.LogInformation("Tool server {ServerId} deleted", serverId);
        return ApiResult.NoContent();
    }

    /// <summary>The headers asked for, each checked; a problem is named under <c>headers</c> or <c>headers.&lt;name&gt;</c>, never quoting a value.</summary>
    static Dictionary<string, string> Headers(Dictionary<string, string?>? requested, Validation v)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (requested is null)
        {
            return headers;
        }

        if (requested.Count > ToolServerHeaders.MaxHeaders)
        {
            v.Add("headers", $"'headers' may name at most {ToolServerHeaders.MaxHeaders} headers (got {requested.Count}).");
            return headers;
        }

        foreach (var (name, value) in requested)
        {
            if (ToolServerHeaders.NameProblem(name) is { } nameProblem)
            {
                v.Add("headers", nameProblem);
            }
            else if (headers.ContainsKey(name))
            {
                v.Add($"headers.{name}", $"'headers' names {name} twice; header names do not differ by case.");
            }
            else if (ToolServerHeaders.ValueProblem(name, value) is { } valueProblem)
            {
                v.Add($"headers.{name}", valueProblem);
            }
            else
            {
                headers[name] = value!;
            }
        }

        return headers;
    }

    async Task<ToolServerRecord?> FindAsync(string accountId, string serverId, CancellationToken cancellationToken) =>
        Ids.LooksLike("mcs", serverId) ? await store.GetAsync(accountId, serverId, cancellationToken) : null;

    static ApiResult NotFound(string serverId) => Problems.NotFound($"Tool server '{serverId}' was not found.");
}
