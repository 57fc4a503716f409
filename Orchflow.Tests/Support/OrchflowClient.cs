using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchflow.Tests.Support;

/// <summary>
/// A thin HTTP client for the API as a user's backend would call it; answers are raw JSON, and every read of a run is
/// checked against the <see cref="StatusRule"/>.
/// </summary>
public sealed class OrchflowClient(Uri baseAddress, string? apiKey = null) : IDisposable
{
    readonly HttpClient http = new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

    readonly ConcurrentQueue<ApiResponse> received = new();

    public string? ApiKey { get; } = apiKey;

    /// <summary>Every response this client received, for tests that check what the API ever said.</summary>
    public IReadOnlyCollection<ApiResponse> Received => received;

    public OrchflowClient WithKey(string? key) => new(http.BaseAddress!, key);

    /// <summary>Registers a fresh account and returns a client that uses its key.</summary>
    public static async Task<OrchflowClient> RegisterAsync(Uri baseAddress, string? name = null)
    {
        using var anonymous = new OrchflowClient(baseAddress);
        var email = $"{Guid.NewGuid():N}@example.com";
        var response = await anonymous.SendAsync(HttpMethod.Post, "auth/register", new { name = name ?? "Test user", email });
        Assert.That(response.Status, Is.EqualTo(HttpStatusCode.Created), response.Text);
        return new OrchflowClient(baseAddress, response.Json!["api_key"]!.GetValue<string>());
    }

    public Task<ApiResponse> SendAsync(HttpMethod method, string path, object? body = null) =>
        SendRawAsync(method, path, body is null ? null : JsonSerializer.Serialize(body));

    /// <summary>A request without a body and with one more header (If-None-Match, say).</summary>
    public Task<ApiResponse> SendWithHeaderAsync(HttpMethod method, string path, string header, string value) =>
        SendRawAsync(method, path, null, header: (header, value));

    public async Task<ApiResponse> SendRawAsync(HttpMethod method, string path, string? body, string contentType = "application/json",
        (string Name, string Value)? header = null)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (header is { } extra)
        {
            request.Headers.TryAddWithoutValidation(extra.Name, extra.Value);
        }

        if (ApiKey is not null)
        {
            request.Headers.Add("X-API-Key", ApiKey);
        }

        if (body is not null)
        {
            // The Content-Type exactly as given, parameters and malformed ones included.
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.Remove("Content-Type");
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.Contains("json") == true)
        {
            json = JsonNode.Parse(text);
        }

        var answer = new ApiResponse(response.StatusCode, text, json,
            response.Content.Headers.ContentType?.MediaType,
            response.Headers.Location?.ToString())
        {
            Headers = response.Headers.Concat(response.Content.Headers)
                .ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase),
        };
        received.Enqueue(answer);
        // Every read of a run, whichever test makes it and why, must keep the contract's status rule.
        if (method == HttpMethod.Get && answer.Status == HttpStatusCode.OK && json is JsonObject && IsRunPath(path))
        {
            StatusRule.Check(json);
        }

        return answer;
    }

    public async Task<JsonNode> StartRunAsync(object body)
    {
        var response = await SendAsync(HttpMethod.Post, "runs", body);
        Assert.That(response.Status, Is.EqualTo(HttpStatusCode.Accepted), response.Text);
        return response.Json!;
    }

    public async Task<JsonNode> GetRunAsync(string runId)
    {
        var response = await SendAsync(HttpMethod.Get, $"runs/{runId}");
        Assert.That(response.Status, Is.EqualTo(HttpStatusCode.OK), response.Text);
        return response.Json!;
    }

    /// <summary>
    /// Polls the run until the condition holds; fails with the last state seen when it does not in time, and at once when
    /// a read breaks the <see cref="StatusRule"/>.
    /// </summary>
    public async Task<JsonNode> WaitForRunAsync(string runId, Func<JsonNode, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var run = await GetRunAsync(runId);
            if (condition(run))
            {
                return run;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Run {runId} did not reach the expected state in time. Last seen:\n{run.ToJsonString(new JsonSerializerOptions { WriteIndented = true })}");
            }

            await Task.Delay(50);
        }
    }

    public Task<JsonNode> WaitForStatusAsync(string runId, string status, TimeSpan? timeout = null) =>
        WaitForRunAsync(runId, r => r["status"]!.GetValue<string>() == status, timeout);

    /// <summary>The run's whole event log, oldest first.</summary>
    public async Task<List<JsonNode>> EventsAsync(string runId)
    {
        var response = await SendAsync(HttpMethod.Get, $"runs/{runId}/events?limit=1000");
        Assert.That(response.Status, Is.EqualTo(HttpStatusCode.OK), response.Text);
        return response.Json!["events"]!.AsArray().Select(e => e!).ToList();
    }

    public Task<ApiResponse> CompleteAsync(string runId, string taskId, object body) =>
        SendAsync(HttpMethod.Post, $"runs/{runId}/tasks/{taskId}/complete", body);

    /// <summary>
    /// Registers a model server as one of the account's providers (an OpenAI-compatible one unless told otherwise) under
    /// a key no other test uses, so finding it anywhere but in the server's requests means it leaked.
    /// </summary>
    public async Task<(string ProviderId, string Key)> CreateProviderAsync(Uri endpoint, string provider = "openai_compatible",
        string model = "llama3.1:8b", string label = "Local server")
    {
        var key = "sk-test-" + Guid.NewGuid().ToString("N");
        var response = await SendAsync(HttpMethod.Post, "providers", new { provider, api_key = key, label, model, endpoint = endpoint.ToString() });
        Assert.That(response.Status, Is.EqualTo(HttpStatusCode.Created), response.Text);
        return (response.Json!["provider_id"]!.GetValue<string>(), key);
    }

    /// <summary>Registers an MCP server with <c>POST /tool-servers</c>; returns its id.</summary>
    public async Task<string> RegisterToolServerAsync(string url)
    {
        var response = await SendAsync(HttpMethod.Post, "tool-servers", new { url });
        Assert.That(response.Status, Is.EqualTo(HttpStatusCode.Created), response.Text);
        return response.Json!["server_id"]!.GetValue<string>();
    }

    /// <summary>Polls a webhook's deliveries, newest first, until the condition holds; fails with the last list seen when it does not in time.</summary>
    public async Task<JsonArray> WaitForDeliveriesAsync(string webhookId, Func<JsonArray, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var response = await SendAsync(HttpMethod.Get, $"webhooks/{webhookId}/deliveries?limit=100");
            Assert.That(response.Status, Is.EqualTo(HttpStatusCode.OK), response.Text);
            var deliveries = response.Json!["deliveries"]!.AsArray();
            if (condition(deliveries))
            {
                return deliveries;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"The deliveries of {webhookId} did not come to {what} in time: {deliveries.ToJsonString()}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Polls a webhook's deliveries until the newest one satisfies the condition, and returns it.</summary>
    public async Task<JsonNode> WaitForDeliveryAsync(string webhookId, Func<JsonNode, bool> condition, string what, TimeSpan? timeout = null) =>
        (await WaitForDeliveriesAsync(webhookId, d => d.Count > 0 && condition(d[0]!), what, timeout))[0]!;

    /// <summary>runs/{id}, with or without a query: the read of one run.</summary>
    static bool IsRunPath(string path) => path.TrimStart('/').Split('?')[0].Split('/') is ["runs", { Length: > 0 }];

    public void Dispose() => http.Dispose();
}

public sealed record ApiResponse(HttpStatusCode Status, string Text, JsonNode? Json, string? ContentType, string? Location)
{
    public string? Code => Json?["code"]?.GetValue<string>();

    /// <summary>Response and content headers, by case-insensitive name; repeated values joined by ", ".</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    public string? Header(string name) => Headers.GetValueOrDefault(name);
}
