using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Orchflow.Bench;

/// <summary>
/// The few calls of Orchflow's HTTP API the bench makes, as any client would make them. Without a traffic record any
/// answer but a 2xx throws; with one, every answer (or its absence) is recorded there by route, and a 429 is retried
/// after its <c>Retry-After</c>, as a polite client under a rate limit does.
/// </summary>
public sealed class OrchflowApi(HttpClient http, ApiTraffic? traffic = null)
{
    public const string Header = "X-API-Key";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static OrchflowApi For(Uri api, ApiTraffic? traffic = null) =>
        new(new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = api,
            Timeout = TimeSpan.FromSeconds(60),
        }, traffic);

    /// <summary>Registers a fresh account and returns its API key.</summary>
    public async Task<string> RegisterAsync(CancellationToken cancellationToken) => (await RegisterAccountAsync(cancellationToken)).ApiKey;

    /// <summary>Registers a fresh account: its API key, and its id for what the bench writes into its tables directly.</summary>
    public Task<Registered> RegisterAccountAsync(CancellationToken cancellationToken)
    {
        var body = new { name = "bench", email = $"{Guid.NewGuid():N}@example.com" };
        return SendAsync<Registered>(HttpMethod.Post, "auth/register", "POST /auth/register", null, body, cancellationToken);
    }

    /// <summary>Starts a run of a plan the client wrote (docs/api.md "Plans given, plans reviewed"): no planning call.</summary>
    public Task<RunDto> StartPlannedRunAsync(string key, string goal, IReadOnlyList<object> tasks, CancellationToken cancellationToken) =>
        SendAsync<RunDto>(HttpMethod.Post, "runs", "POST /runs", key, new { task = goal, plan = new { tasks } }, cancellationToken);

    /// <summary>The run's current ETag, from a full read.</summary>
    public async Task<string> GetRunTagAsync(string key, string runId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"runs/{runId}");
        request.Headers.Add(Header, key);
        using var response = await http.SendAsync(request, cancellationToken);
        _ = await ReadAsync<RunDto>(response, HttpMethod.Get, request.RequestUri!.ToString(), cancellationToken);
        return response.Headers.ETag?.ToString() ?? throw new InvalidOperationException($"GET runs/{runId} sent no ETag.");
    }

    /// <summary>A conditional read with the run's current tag: anything but a 304 with no body throws.</summary>
    public async Task<bool> GetRunUnchangedAsync(string key, string runId, string tag, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"runs/{runId}");
        request.Headers.Add(Header, key);
        request.Headers.TryAddWithoutValidation("If-None-Match", tag);
        using var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return response.StatusCode == HttpStatusCode.NotModified && body.Length == 0
            ? true
            : throw new InvalidOperationException($"GET runs/{runId} with If-None-Match {tag} answered {(int)response.StatusCode} with {body.Length} bytes, not a bare 304.");
    }

    /// <summary>A full read whose body is read and not parsed: its status, so a caller can count what was refused.</summary>
    public async Task<int> GetRunStatusCodeAsync(string key, string runId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"runs/{runId}");
        request.Headers.Add(Header, key);
        using var response = await http.SendAsync(request, cancellationToken);
        _ = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return (int)response.StatusCode;
    }

    /// <summary>Opens the run's live event stream (docs/api.md "Live: Server-Sent Events"); the caller reads and disposes it.</summary>
    public async Task<HttpResponseMessage> OpenEventStreamAsync(string key, string runId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"runs/{runId}/events");
        request.Headers.Add(Header, key);
        request.Headers.Accept.ParseAdd("text/event-stream");
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode || response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            var status = (int)response.StatusCode;
            response.Dispose();
            throw new RefusedException(status, $"GET runs/{runId}/events as a stream answered {status}.");
        }

        return response;
    }

    /// <summary>Starts a run with any body (a plan, tools, …).</summary>
    public Task<RunDto> StartRunWithAsync(string key, object body, CancellationToken cancellationToken) =>
        SendAsync<RunDto>(HttpMethod.Post, "runs", "POST /runs", key, body, cancellationToken);

    /// <summary>Registers an MCP server's URL as one of the account's tool servers; returns its id.</summary>
    public async Task<string> RegisterToolServerAsync(string key, string url, CancellationToken cancellationToken) =>
        (await SendAsync<JsonElement>(HttpMethod.Post, "tool-servers", "POST /tool-servers", key, new { url }, cancellationToken)).GetProperty("server_id").GetString()!;

    /// <summary>Registers an OpenAI-compatible provider at <paramref name="endpoint"/>; returns its id.</summary>
    public async Task<string> CreateProviderAsync(string key, string endpoint, CancellationToken cancellationToken) =>
        (await SendAsync<JsonElement>(HttpMethod.Post, "providers", "POST /providers", key,
            new { provider = "openai_compatible", api_key = "sk-bench-provider", label = "Bench", model = "bench-model", endpoint }, cancellationToken))
        .GetProperty("provider_id").GetString()!;

    /// <summary>Lets the call a task waits on be made as asked.</summary>
    public Task ApproveToolCallAsync(string key, string runId, string taskId, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"runs/{runId}/tasks/{taskId}/complete", "POST /runs/{id}/tasks/{task}/complete", key, new { approved = true }, cancellationToken);

    public Task<RunDto> StartRunAsync(string key, string goal, IReadOnlyList<string>? askMeAbout, CancellationToken cancellationToken) =>
        SendAsync<RunDto>(HttpMethod.Post, "runs", "POST /runs", key, new { task = goal, ask_me_about = askMeAbout ?? [], require_approval = false }, cancellationToken);

    public Task<RunDto> GetRunAsync(string key, string runId, CancellationToken cancellationToken) =>
        SendAsync<RunDto>(HttpMethod.Get, $"runs/{runId}", "GET /runs/{id}", key, null, cancellationToken);

    public Task<TaskList> GetTasksAsync(string key, string runId, CancellationToken cancellationToken) =>
        SendAsync<TaskList>(HttpMethod.Get, $"runs/{runId}/tasks", "GET /runs/{id}/tasks", key, null, cancellationToken);

    /// <summary>One page of the account's runs, newest first.</summary>
    public Task<RunList> ListRunsAsync(string key, int limit, int offset, CancellationToken cancellationToken) =>
        SendAsync<RunList>(HttpMethod.Get, $"runs?limit={limit}&offset={offset}", "GET /runs", key, null, cancellationToken);

    public Task CompleteTaskAsync(string key, string runId, string taskId, string output, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"runs/{runId}/tasks/{taskId}/complete", "POST /runs/{id}/tasks/{task}/complete", key, new { output }, cancellationToken);

    /// <summary>Reads the run until <paramref name="done"/> holds, every <paramref name="interval"/>; throws after <paramref name="limit"/>.</summary>
    public async Task<RunDto> WaitAsync(
        string key, string runId, Func<RunDto, bool> done, TimeSpan interval, TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var run = await GetRunAsync(key, runId, cancellationToken);
            if (done(run))
            {
                return run;
            }

            if (run.Status is "failed" or "cancelled")
            {
                throw new InvalidOperationException($"Run {runId} ended {run.Status}: {run.Error}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Run {runId} is still {run.Status} after {limit.TotalSeconds:0} s.");
            }

            await Task.Delay(interval, cancellationToken);
        }
    }

    /// <param name="route">The route's template, under which the traffic record counts the answer.</param>
    async Task<T> SendAsync<T>(HttpMethod method, string path, string route, string? key, object? body, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var request = new HttpRequestMessage(method, path);
            if (key is not null)
            {
                request.Headers.Add(Header, key);
            }

            if (body is not null)
            {
                request.Content = JsonContent.Create(body);
            }

            if (traffic is null)
            {
                using var response = await http.SendAsync(request, cancellationToken);
                return await ReadAsync<T>(response, method, path, cancellationToken);
            }

            var started = Stopwatch.GetTimestamp();
            TimeSpan retryAfter;
            try
            {
                using var response = await http.SendAsync(request, cancellationToken);
                if (response.StatusCode != HttpStatusCode.TooManyRequests)
                {
                    var value = await ReadAsync<T>(response, method, path, cancellationToken);
                    traffic.Record(route, (int)response.StatusCode, Outcome.Served, Stopwatch.GetElapsedTime(started));
                    return value;
                }

                retryAfter = await RetryAfterAsync(response, method, path, cancellationToken);
                traffic.Record(route, 429, Outcome.Limited, Stopwatch.GetElapsedTime(started));
            }
            catch (RefusedException e)
            {
                traffic.Record(route, e.Status, Outcome.Refused, Stopwatch.GetElapsedTime(started));
                throw;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
            {
                // A timeout (HttpClient's own cancellation), a refused or dropped connection, or a 2xx body that is not the JSON promised.
                traffic.Record(route, 0, Outcome.NoAnswer, Stopwatch.GetElapsedTime(started));
                throw new HttpRequestException($"{method} {path} got no usable answer: {e.GetType().Name}: {e.Message}", e);
            }

            // A little jitter, so the clients of one key that were refused together do not all come back in the same instant.
            await Task.Delay(retryAfter + TimeSpan.FromMilliseconds(Random.Shared.Next(200)), cancellationToken);
        }
    }

    static async Task<T> ReadAsync<T>(HttpResponseMessage response, HttpMethod method, string path, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var problem = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new RefusedException((int)response.StatusCode, $"{method} {path} answered {(int)response.StatusCode}: {problem}");
        }

        return (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!;
    }

    /// <summary>
    /// How long a 429 asks to wait. docs/api.md "Rate limits" promises <c>Retry-After</c> in whole seconds (at least 1) and problem details
    /// with <c>code: rate_limited</c>; a 429 without them breaks the contract and counts as a refusal, not a limit.
    /// </summary>
    static async Task<TimeSpan> RetryAfterAsync(HttpResponseMessage response, HttpMethod method, string path, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        string? code = null;
        try
        {
            using var problem = JsonDocument.Parse(text);
            code = problem.RootElement.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        }
        catch (JsonException)
        {
            // Not JSON: reported below as a 429 that is not problem details.
        }

        if (response.Headers.RetryAfter?.Delta is not { } delta || delta < TimeSpan.FromSeconds(1) || code != "rate_limited")
        {
            throw new RefusedException(429, $"{method} {path} answered 429 without Retry-After in whole seconds or code rate_limited " +
                                            $"(Retry-After: {response.Headers.RetryAfter?.ToString() ?? "none"}): {text}");
        }

        return delta;
    }

    public sealed record Registered(string ApiKey, string AccountId);
}

/// <summary>An answer other than a 2xx (or a proper 429, when 429s are retried): the request was refused.</summary>
public sealed class RefusedException(int status, string message) : HttpRequestException(message, null, (HttpStatusCode)status)
{
    public int Status => status;
}

/// <summary>The part of a run view (<c>GET /runs/{id}</c>) the bench reads.</summary>
public sealed record RunDto(
    string RunId,
    string Status,
    Dictionary<string, TaskDto> Subtasks,
    List<string> WaitingOn,
    string? Error,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public bool IsCompleted => Status == "completed";

    /// <summary>Agent tasks on the longest chain of dependencies: the tasks on the run's critical path.</summary>
    public int CriticalPathTasks() => Plan.CriticalPath(Subtasks.Values.Select(t => new PlanNode(t.TaskId, t.Kind == "agent", t.DependsOn)));
}

public sealed record TaskDto(
    string TaskId,
    string Kind,
    string State,
    List<string> DependsOn,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt)
{
    /// <summary>The tool call the task waits on a person for, if any.</summary>
    public JsonElement? PendingToolCall { get; init; }

    /// <summary>Started: what a human's answer should lead to for a task that waited for it.</summary>
    public bool HasStarted => State is "running" or "waiting_human" or "completed";
}

public sealed record TaskList(string RunId, List<TaskDto> Tasks);

public sealed record RunList(List<RunSummaryDto> Runs, int Total);

public sealed record RunSummaryDto(string RunId, string Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
