using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>Accounts brought, through the public API, into states that stay put, so that any later change is someone's doing.</summary>
static class RestingAccounts
{
    /// <summary>Registers an account; returns a client with its key, and its id and email as registration returned them.</summary>
    public static async Task<(OrchflowClient Client, string AccountId, string Email)> RegisterAsync(Uri baseAddress)
    {
        using var anonymous = new OrchflowClient(baseAddress);
        var email = $"{Guid.NewGuid():N}@example.com";
        var registered = ApiAssert.Json(await anonymous.SendAsync(HttpMethod.Post, "auth/register", new { name = "Resting user", email }), HttpStatusCode.Created);
        return (anonymous.WithKey(registered.Str("api_key")), registered.Str("account_id"), email);
    }

    /// <summary>
    /// A fresh account with a run waiting on a human (no timeout, so it waits for ever), a completed run, a cancelled
    /// run, a provider and a webhook (registered after the runs settled, to a loopback port nothing listens on, so no
    /// delivery is made and none would leave the machine), and a tool server with a secret header (a loopback MCP
    /// server that answers while it is registered and is gone after); it has used three of its trial runs.
    /// </summary>
    public static async Task<AccountIds> SeedAsync(Uri baseAddress)
    {
        var (client, accountId, email) = await RegisterAsync(baseAddress);
        using (client)
        {
            var (waitingId, waiting) = await RunScenarios.StartWaitingRunAsync(client);
            var completedId = await RunScenarios.StartCompletedRunAsync(client);
            var (cancelledId, _) = await RunScenarios.StartWaitingRunAsync(client);
            ApiAssert.Json(await client.SendAsync(HttpMethod.Delete, $"runs/{cancelledId}"), HttpStatusCode.OK);
            var cancelled = await client.WaitForRunAsync(cancelledId, r =>
                r.Str("status") == "cancelled" && ApiAssert.TaskStates(r).All(t => !RunScenarios.Unfinished.Contains(t.State)));
            var completed = await client.GetRunAsync(completedId);
            var provider = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, "providers", new
            {
                provider = "openai", api_key = "sk-resting-" + Guid.NewGuid().ToString("N"), label = "Resting", model = "gpt-4o-mini",
            }), HttpStatusCode.Created).Str("provider_id");
            var webhook = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, "webhooks", new { url = "http://127.0.0.1:9/resting" }),
                HttpStatusCode.Created).Str("webhook_id");
            string toolServer;
            await using (var tools = await LoopbackMcpServer.StartAsync())
            {
                toolServer = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, "tool-servers", new
                {
                    url = tools.Url, headers = new Dictionary<string, string> { ["Authorization"] = "Bearer resting-" + Guid.NewGuid().ToString("N") },
                }), HttpStatusCode.Created).Str("server_id");
            }

            var key = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "auth/keys"), HttpStatusCode.OK)["keys"]![0]!.Str("key_id");
            return new AccountIds(
                accountId, client.ApiKey!, email,
                waitingId, "T1", Tasks(waiting).Where(t => t != "T1").ToList(),
                completedId, Tasks(completed),
                cancelledId, Tasks(cancelled),
                provider, webhook, toolServer, key);
        }
    }

    static List<string> Tasks(JsonNode run) => ApiAssert.TaskStates(run).Select(t => t.TaskId).ToList();
}
