using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing.Template;
using Orchflow.Domain;
using Orchflow.Functions.Functions;
using Orchflow.Functions.Http;
using Orchflow.Tests.Integration.Engine;
using Orchflow.Tests.Support;
using Orchflow.Webhooks;

namespace Orchflow.Tests.Integration.Api;

/// <summary>The scenarios of an account's providers and webhooks, and of the document itself.</summary>
public sealed partial class OpenApiContractTests
{
    async Task CreateProviderScenario()
    {
        using var client = await NewAccountAsync();
        var key = NewKey();
        var body = new { provider = "openai", api_key = "sk-contract-" + Guid.NewGuid().ToString("N"), label = "Contract", model = "gpt-4o-mini" };

        var created = await Expect(HttpStatusCode.Created, Call("createProvider", client, "providers", body, idempotencyKey: key));
        var replay = await Expect(HttpStatusCode.Created, Call("createProvider", client, "providers", body, idempotencyKey: key));
        Assert.Multiple(() =>
        {
            Assert.That(replay.Header("Idempotent-Replayed"), Is.EqualTo("true"));
            Assert.That(replay.Json!.Str("provider_id"), Is.EqualTo(created.Json!.Str("provider_id")));
        });
        await Expect(HttpStatusCode.Created, Call("createProvider", client, "providers",
            new { provider = "openai_compatible", api_key = "ollama", model = "llama3.1:8b", endpoint = "http://127.0.0.1:11434/v1" }));
        await ExpectProblem("idempotency_mismatch", Call("createProvider", client, "providers", body with { label = "Other" }, idempotencyKey: key));
        await ExpectProblem("validation_failed", Call("createProvider", client, "providers", new { provider = "skynet", api_key = "k", model = "m" }));
        await ExpectProblem("validation_failed", Call("createProvider", client, "providers", new { provider = "azure_openai", api_key = "k", model = "m" }));
        for (var count = 2; count < ProvidersFunctions.MaxPerAccount; count++)
        {
            await Expect(HttpStatusCode.Created, Call("createProvider", client, "providers", body with { api_key = $"sk-contract-{count}" }));
        }

        await ExpectProblem("conflict", Call("createProvider", client, "providers", body with { api_key = "sk-contract-over" }));
        await Expect(HttpStatusCode.RequestEntityTooLarge, Call("createProvider", client, "providers", raw: Oversized));
        await Expect(HttpStatusCode.Unauthorized, Call("createProvider", Anonymous, "providers", body));
    }

    async Task ListProvidersScenario()
    {
        using var client = await NewAccountAsync();
        await Expect(HttpStatusCode.OK, Call("listProviders", client, "providers"));
        await Expect(HttpStatusCode.Created, Call("createProvider", client, "providers", new { provider = "gemini", api_key = "g-contract-key-123456", model = "gemini-2.0-flash" }));
        var list = await Expect(HttpStatusCode.OK, Call("listProviders", client, "providers"));
        Assert.That(list.Json!["providers"]!.AsArray(), Has.Count.EqualTo(1));
        await Expect(HttpStatusCode.Unauthorized, Call("listProviders", Anonymous, "providers"));
    }

    async Task DeleteProviderScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var created = await Expect(HttpStatusCode.Created, Call("createProvider", client, "providers", new { provider = "anthropic", api_key = "short", model = "claude" }));
        var path = $"providers/{created.Json!.Str("provider_id")}";

        await ExpectProblem("not_found", Call("deleteProvider", other, path));
        await Expect(HttpStatusCode.NoContent, Call("deleteProvider", client, path));
        await ExpectProblem("not_found", Call("deleteProvider", client, path));
        await Expect(HttpStatusCode.Unauthorized, Call("deleteProvider", Anonymous, path));
    }

    async Task GetOpenApiScenario()
    {
        var served = await Expect(HttpStatusCode.OK, Call("getOpenApi", Anonymous, "openapi.json"));
        Assert.That(JsonNode.DeepEquals(served.Json, JsonNode.Parse(OpenApiContract.EmbeddedText())), Is.True, "the host serves the document in the repository");
    }

    // Webhooks: as docs/api.md "Webhooks" describes them. These run once FunctionCatalog.Http has the routes.

    async Task CreateWebhookScenario()
    {
        using var client = await NewAccountAsync();
        var key = NewKey();
        var body = new { url = "http://127.0.0.1:9/orchflow-hook", events = new[] { "run.waiting_human", "run.completed" }, description = "Contract" };

        var created = await Expect(HttpStatusCode.Created, Call("createWebhook", client, "webhooks", body, idempotencyKey: key));
        var replay = await Expect(HttpStatusCode.Created, Call("createWebhook", client, "webhooks", body, idempotencyKey: key));
        Assert.That(replay.Json!.Str("webhook_id"), Is.EqualTo(created.Json!.Str("webhook_id")));
        await Expect(HttpStatusCode.Created, Call("createWebhook", client, "webhooks", new { url = "http://127.0.0.1:9/defaults" }));
        await ExpectProblem("idempotency_mismatch", Call("createWebhook", client, "webhooks", new { url = "http://127.0.0.1:9/other" }, idempotencyKey: key));
        await ExpectProblem("validation_failed", Call("createWebhook", client, "webhooks", new { url = "ftp://example.org/hook" }));
        await ExpectProblem("validation_failed", Call("createWebhook", client, "webhooks", new { url = "http://127.0.0.1:9/hook", events = new[] { "run.exploded" } }));
        for (var count = 2; count < new WebhookOptions().MaxPerAccount; count++)
        {
            await NewWebhookAsync(client);
        }

        await ExpectProblem("conflict", Call("createWebhook", client, "webhooks", new { url = "http://127.0.0.1:9/over" }));
        await Expect(HttpStatusCode.RequestEntityTooLarge, Call("createWebhook", client, "webhooks", raw: Oversized));
        await Expect(HttpStatusCode.Unauthorized, Call("createWebhook", Anonymous, "webhooks", body));
    }

    async Task ListWebhooksScenario()
    {
        using var client = await NewAccountAsync();
        await Expect(HttpStatusCode.OK, Call("listWebhooks", client, "webhooks"));
        await Expect(HttpStatusCode.Created, Call("createWebhook", client, "webhooks", new { url = "http://127.0.0.1:9/hook" }));
        var list = await Expect(HttpStatusCode.OK, Call("listWebhooks", client, "webhooks"));
        Assert.That(list.Json!["webhooks"]!.AsArray(), Has.Count.EqualTo(1));
        await Expect(HttpStatusCode.Unauthorized, Call("listWebhooks", Anonymous, "webhooks"));
    }

    async Task DeleteWebhookScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var path = $"webhooks/{await NewWebhookAsync(client)}";

        await ExpectProblem("not_found", Call("deleteWebhook", other, path));
        await Expect(HttpStatusCode.NoContent, Call("deleteWebhook", client, path));
        await ExpectProblem("not_found", Call("deleteWebhook", client, path));
        await Expect(HttpStatusCode.Unauthorized, Call("deleteWebhook", Anonymous, path));
    }

    async Task RotateWebhookSecretScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var path = $"webhooks/{await NewWebhookAsync(client)}/rotate-secret";

        await ExpectProblem("not_found", Call("rotateWebhookSecret", other, path));
        await Expect(HttpStatusCode.OK, Call("rotateWebhookSecret", client, path));
        await Expect(HttpStatusCode.Unauthorized, Call("rotateWebhookSecret", Anonymous, path));
    }

    async Task ListWebhookDeliveriesScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var webhookId = await NewWebhookAsync(client);
        await StartAsync(client, new { task = Goal, ask_me_about = new[] { "company details" } });

        await Expect(HttpStatusCode.OK, Call("listWebhookDeliveries", client, $"webhooks/{webhookId}/deliveries?limit=5"));
        await ExpectProblem("validation_failed", Call("listWebhookDeliveries", client, $"webhooks/{webhookId}/deliveries?limit=0"));
        await ExpectProblem("not_found", Call("listWebhookDeliveries", other, $"webhooks/{webhookId}/deliveries"));
        await Expect(HttpStatusCode.Unauthorized, Call("listWebhookDeliveries", Anonymous, $"webhooks/{webhookId}/deliveries"));
    }

    async Task<string> NewWebhookAsync(OrchflowClient client) =>
        (await Expect(HttpStatusCode.Created, Call("createWebhook", client, "webhooks", new { url = "http://127.0.0.1:9/hook" }))).Json!.Str("webhook_id");
}
