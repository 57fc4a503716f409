using System.Net.Http.Json;
using System.Text.Json;

namespace Orchflow.Bench;

/// <summary>The few calls of Orchflow's HTTP API the bench makes, as any client would make them.</summary>
public sealed class OrchflowApi(HttpClient http)
{
    public const string Header = "X-API-Key";

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static OrchflowApi For(Uri api) =>
        new(new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = api,
            Timeout = TimeSpan.FromSeconds(60),
        });

    /// <summary>Registers a fresh account and returns its API key.</summary>
    public async Task<string> RegisterAsync(CancellationToken cancellationToken)
    {
        var body = new { name = "bench", email = $"{Guid.NewGuid():N}@example.com" };
        var registered = await SendAsync<Registered>(HttpMethod.Post, "auth/register", null, body, cancellationToken);
        return registered.ApiKey;
    }

    public Task<RunDto> StartRunAsync(string key, string goal, IReadOnlyList<string>? askMeAbout, CancellationToken cancellationToken) =>
        SendAsync<RunDto>(HttpMethod.Post, "runs", key, new { task = goal, ask_me_about = askMeAbout ?? [], require_approval = false }, cancellationToken);

    public Task<RunDto> GetRunAsync(string key, string runId, CancellationToken cancellationToken) =>
        SendAsync<RunDto>(HttpMethod.Get, $"runs/{runId}", key, null, cancellationToken);

    /// <summary>One page of the account's runs, newest first.</summary>
    public Task<RunList> ListRunsAsync(string key, int limit, int offset, CancellationToken cancellationToken) =>
        SendAsync<RunList>(HttpMethod.Get, $"runs?limit={limit}&offset={offset}", key, null, cancellationToken);

    public Task CompleteTaskAsync(string key, string runId, string taskId, string output, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"runs/{runId}/tasks/{taskId}/complete", key, new { output }, cancellationToken);

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

    async Task<T> SendAsync<T>(HttpMethod method, string path, string? key, object? body, CancellationToken cancellationToken)
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

        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var problem = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"{method} {path} answered {(int)response.StatusCode}: {problem}");
        }

        return (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!;
    }

    sealed record Registered(string ApiKey);
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
    /// <summary>Started: what a human's answer should lead to for a task that waited for it.</summary>
    public bool HasStarted => State is "running" or "waiting_human" or "completed";
}

public sealed record RunList(List<RunSummaryDto> Runs, int Total);

public sealed record RunSummaryDto(string RunId, string Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
