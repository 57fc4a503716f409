using System.IO.Compression;
using System.Net;
using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// Provider keys and tool servers' header values go to the secret store and to the provider's or the server's
/// requests, and nowhere else; a webhook's signing secrets go to the secret store and into the one response that
/// shows each (registration, rotation), and reach the receiver only as signatures. A host logging at Debug registers
/// and refreshes a tool server with a recognisable token, runs a whole run on a provider with a recognisable key, a
/// run whose provider echoes the key back in its errors, and a trial run on the managed model, with a rotated webhook
/// getting every event; then every HTTP response, every line the host wrote, every row of the projection and of the
/// durable backend's tables, every blob, every queued message and every request the receiver got is searched.
/// </summary>
[TestFixture]
public sealed class KeyLeakageTests : HostedModelTests
{
    static readonly string ManagedKey = "managed-leak-" + Guid.NewGuid().ToString("N") + "-canary";
    static readonly string ToolServerToken = "tool-leak-" + Guid.NewGuid().ToString("N") + "-canary";

    /// <summary>A run through a human answer: the person's details first, then the note.</summary>
    protected override CooperativeModel Cooperative { get; } = new("""{"tasks": [{"task_id": "T1", "name": "Provide company details", "description": "Details.", "kind": "human", "agent": "", "depends_on": [], "prompt": "Your company details?"}, {"task_id": "T2", "name": "Draft the note", "description": "A note.", "kind": "agent", "agent": "writer", "depends_on": ["T1"], "prompt": ""}]}""");

    WebhookReceiver receiver = null!;

    protected override async Task BeforeHostStartsAsync()
    {
        await base.BeforeHostStartsAsync();
        receiver = await WebhookReceiver.StartAsync();
    }

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Logging__LogLevel__Default"] = "Debug",
        ["Orchflow__Models__RetryBaseDelayMs"] = "10",
        ["Orchflow__Models__MaxAttempts"] = "2",
        ["Orchflow__ManagedModel__Provider"] = "openai",
        ["Orchflow__ManagedModel__Model"] = "managed-model",
        ["Orchflow__ManagedModel__Endpoint"] = new Uri(ModelServer.BaseUri, "v1").ToString(),
        ["Orchflow__ManagedModel__ApiKey"] = ManagedKey,
    };

    [OneTimeTearDown]
    public async Task StopReceiverAsync() => await receiver.DisposeAsync();

    [Test]
    public async Task WholeRuns_KeysAppearInNoResponseLogLineProjectionRowHistoryBlobOrQueue()
    {
        using var client = await RegisterAsync();
        var registered = await client.SendAsync(HttpMethod.Post, "webhooks", new { url = receiver.Url("/leak"), events = Orchflow.Domain.EventTypes.All });
        var firstSecret = ApiAssert.Json(registered, HttpStatusCode.Created).Str("secret");
        var rotation = await client.SendAsync(HttpMethod.Post, $"webhooks/{registered.Json!.Str("webhook_id")}/rotate-secret");
        var secondSecret = ApiAssert.Json(rotation, HttpStatusCode.OK).Str("secret");
        // The secrets as the store holds them, and their key bytes in base64, however a leak might spell them.
        string[] secrets = [firstSecret, secondSecret, firstSecret["whsec_".Length..], secondSecret["whsec_".Length..]];
        var (providerId, providerKey) = await client.CreateProviderAsync(new Uri(ModelServer.BaseUri, "v1"), model: "canary-model", label: "Canary");

        // A tool server's header value: sent to the server, shown and kept nowhere else.
        await using var tools = await LoopbackMcpServer.StartAsync();
        var toolServer = await client.SendAsync(HttpMethod.Post, "tool-servers", new
        {
            url = tools.Url, headers = new Dictionary<string, string> { ["Authorization"] = "Bearer " + ToolServerToken },
        });
        var serverId = ApiAssert.Json(toolServer, HttpStatusCode.Created).Str("server_id");
        ApiAssert.Json(await client.SendAsync(HttpMethod.Post, $"tool-servers/{serverId}/refresh"), HttpStatusCode.OK);
        await client.SendAsync(HttpMethod.Get, "tool-servers");

        // A run that completes, through a human answer, on the provider (the cooperative model's plan).
        var completed = (await client.StartRunAsync(new { task = "Draft a launch note.", provider_id = providerId, ask_me_about = new[] { "company details" } })).Str("run_id");
        await client.WaitForStatusAsync(completed, "waiting_human");
        ApiAssert.Json(await client.CompleteAsync(completed, "T1", new { output = "We build workflow APIs." }), HttpStatusCode.OK);
        await client.WaitForStatusAsync(completed, "completed");

        // Runs whose provider quotes the key back: refused outright, then as a bad request.
        ModelServer.Responder = _ => new FakeReply(401, $$$"""{"error": {"message": "Incorrect API key provided: {{{providerKey}}}", "code": "invalid_api_key"}}""");
        var rejected = (await client.StartRunAsync(new { task = "Draft a launch note.", provider_id = providerId })).Str("run_id");
        await client.WaitForStatusAsync(rejected, "failed");
        ModelServer.Responder = _ => FakeReply.BadRequest($"Key {providerKey} may not use model canary-model.");
        var refused = (await client.StartRunAsync(new { task = "Draft a launch note.", provider_id = providerId })).Str("run_id");
        var refusedRun = await client.WaitForStatusAsync(refused, "failed");

        // A trial run on the managed model.
        ModelServer.Responder = new CooperativeModel("""{"tasks": [{"task_id": "T1", "name": "Draft the note", "description": "A note.", "kind": "agent", "agent": "writer", "depends_on": [], "prompt": ""}]}""").Answer;
        var trial = (await client.StartRunAsync(new { task = "Draft a launch note." })).Str("run_id");
        await client.WaitForStatusAsync(trial, "completed");

        foreach (var runId in new[] { completed, rejected, refused, trial })
        {
            await client.SendAsync(HttpMethod.Get, $"runs/{runId}/tasks");
        }

        await client.SendAsync(HttpMethod.Get, "runs");
        await client.SendAsync(HttpMethod.Get, "providers");
        await client.SendAsync(HttpMethod.Get, "webhooks");
        var deliveries = await EveryEventDeliveredAsync(client, registered.Json!.Str("webhook_id"), [completed, rejected, refused, trial]);

        var places = new List<(string Where, string Text)>();
        places.AddRange(client.Received.Select(r => ("HTTP response", r.Text)));
        places.Add(("host output", Host.Output));
        places.AddRange(await ReadTablesAsync());
        places.AddRange(await ReadBlobsAsync());
        places.AddRange(await ReadQueuesAsync());
        places.AddRange(deliveries.Select(d => ("webhook request", string.Join("\n", d.Headers.Select(h => $"{h.Key}: {h.Value}")) + "\n" + d.Body)));

        var leaks = places
            .Where(p => new[] { providerKey, ManagedKey, ToolServerToken }.Any(key => p.Text.Contains(key, StringComparison.Ordinal)))
            .Select(p => p.Where)
            .ToList();
        // Each secret is shown once, by the response that made it; anywhere else is a leak.
        var secretLeaks = places
            .Where(p => !ReferenceEquals(p.Text, registered.Text) && !ReferenceEquals(p.Text, rotation.Text))
            .Where(p => secrets.Any(secret => p.Text.Contains(secret, StringComparison.Ordinal)))
            .Select(p => p.Where)
            .ToList();
        Assert.Multiple(() =>
        {
            Assert.That(leaks, Is.Empty, "a key was found in: " + string.Join(", ", leaks.Distinct()));
            Assert.That(secretLeaks, Is.Empty, "a webhook secret was found in: " + string.Join(", ", secretLeaks.Distinct()));
            Assert.That(rotation.Text, Does.Not.Contain(firstSecret), "the rotation shows the new secret only");
            Assert.That(deliveries.Count, Is.GreaterThan(10), "the scan read the webhook requests");
            Assert.That(places.Any(p => p.Where.Contains("Webhooks", StringComparison.Ordinal)), Is.True, "the scan read the webhook rows");
            Assert.That(places.Count(p => p.Where.StartsWith("table", StringComparison.Ordinal)), Is.GreaterThan(20), "the scan read the stored rows");
            Assert.That(places.Any(p => p.Where.Contains("History", StringComparison.Ordinal)), Is.True, "the scan read the orchestration history");
            Assert.That(Host.Output, Does.Contain(providerId), "the scan read the host's logs");
            Assert.That(refusedRun.Str("error"), Does.Contain("may not use model canary-model").And.Contain("[key]"));
            Assert.That(ModelServer.Requests.Select(r => r.Header("Authorization")), Is.All.AnyOf("Bearer " + providerKey, "Bearer " + ManagedKey));
            Assert.That(tools.Requests.Where(r => r.Method == "POST").Select(r => r.Header("Authorization")).ToList(), Has.Count.GreaterThan(2).And.All.EqualTo("Bearer " + ToolServerToken));
            Assert.That(places.Any(p => p.Where.Contains("ToolServers", StringComparison.Ordinal)), Is.True, "the scan read the tool server rows");
        });
    }

    /// <summary>
    /// The receiver's requests once every event of the ended runs has its delivery recorded as succeeded: then none is
    /// left to make, no retry and no late event, and the scan sees all the receiver will ever get.
    /// </summary>
    async Task<IReadOnlyList<ReceivedWebhook>> EveryEventDeliveredAsync(OrchflowClient client, string webhookId, string[] runIds)
    {
        var events = 0;
        foreach (var runId in runIds)
        {
            events += (await client.EventsAsync(runId)).Count;
        }

        await client.WaitForDeliveriesAsync(webhookId, d => d.Count == events && d.All(x => x!.Str("status") == "succeeded"),
            $"{events} deliveries, every one succeeded");
        Assert.That(receiver.All, Has.Count.EqualTo(events), "one request per event");
        return receiver.All;
    }

    /// <summary>Every row of this host's projection tables and of its task hub's tables, one place per row.</summary>
    async Task<IEnumerable<(string, string)>> ReadTablesAsync()
    {
        var service = new TableServiceClient(TestEnvironment.Azurite.ConnectionString);
        var rows = new List<(string, string)>();
        await foreach (var table in service.QueryAsync())
        {
            if (!table.Name.StartsWith(Host.TablePrefix, StringComparison.OrdinalIgnoreCase) &&
                !table.Name.StartsWith(Host.TaskHub, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            await foreach (var row in service.GetTableClient(table.Name).QueryAsync<TableEntity>())
            {
                var text = string.Join("\n", row.Select(p => p.Value switch
                {
                    byte[] bytes => Decode(bytes),
                    BinaryData data => Decode(data.ToArray()),
                    var value => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
                }));
                rows.Add(($"table {table.Name}", text));
            }
        }

        return rows;
    }

    /// <summary>Every blob of the task hub's containers (large messages and leases), decompressed when gzipped.</summary>
    async Task<IEnumerable<(string, string)>> ReadBlobsAsync()
    {
        var service = new BlobServiceClient(TestEnvironment.Azurite.ConnectionString);
        var blobs = new List<(string, string)>();
        await foreach (var container in service.GetBlobContainersAsync(prefix: Host.TaskHub.ToLowerInvariant()))
        {
            var client = service.GetBlobContainerClient(container.Name);
            await foreach (var blob in client.GetBlobsAsync())
            {
                var content = await client.GetBlobClient(blob.Name).DownloadContentAsync();
                blobs.Add(($"blob {container.Name}/{blob.Name}", Decode(content.Value.Content.ToArray())));
            }
        }

        return blobs;
    }

    async Task<IEnumerable<(string, string)>> ReadQueuesAsync()
    {
        var service = new QueueServiceClient(TestEnvironment.Azurite.ConnectionString);
        var messages = new List<(string, string)>();
        foreach (var prefix in new[] { Host.TaskHub.ToLowerInvariant(), Host.WebhookQueue })
        {
            await foreach (var queue in service.GetQueuesAsync(prefix: prefix))
            {
                var peeked = await service.GetQueueClient(queue.Name).PeekMessagesAsync(maxMessages: 32);
                messages.AddRange(peeked.Value.Select(m => ($"queue {queue.Name}", m.Body.ToString())));
            }
        }

        return messages;
    }

    /// <summary>Bytes as text, gunzipped first when they are gzip, so a compressed copy of a key is found too.</summary>
    static string Decode(byte[] bytes)
    {
        if (bytes is [0x1f, 0x8b, ..])
        {
            using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            using var plain = new MemoryStream();
            gzip.CopyTo(plain);
            bytes = plain.ToArray();
        }

        return Encoding.UTF8.GetString(bytes);
    }
}
