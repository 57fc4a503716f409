using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Orchflow.Functions.Functions;
using Orchflow.Domain;
using Orchflow.Functions.Http;
using Orchflow.Webhooks;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>
/// One path of the route table: its template and the methods it serves, read from <see cref="FunctionCatalog"/>,
/// so that a route added later is part of every walk over the table without anyone listing it.
/// </summary>
public sealed partial record CatalogRoute(string Template, IReadOnlyList<string> Methods, IReadOnlyList<string> Parameters, IReadOnlyList<string> PublicMethods)
{
    /// <summary>
    /// Every API route a function serves; the catch-all is not one (the paths no route has are fuzzed on their own), nor
    /// are the console's static files, which take no key, no body and no id (ConsoleServingTests covers them).
    /// </summary>
    public static readonly IReadOnlyList<CatalogRoute> All = FunctionCatalog.Http
        .Where(f => f.IsApi && !f.IsFallback)
        .GroupBy(f => f.Route, StringComparer.OrdinalIgnoreCase)
        .Select(g => new CatalogRoute(
            g.Key,
            g.SelectMany(f => f.Methods).Distinct().Order(StringComparer.Ordinal).ToList(),
            Parameter().Matches(g.Key).Select(m => m.Groups[1].Value).Distinct().ToList(),
            g.Where(f => f.IsPublic).SelectMany(f => f.Methods).Distinct().ToList()))
        .OrderBy(r => r.Template, StringComparer.Ordinal)
        .ToList();

    public bool Serves(string method) => Methods.Contains(method);

    public bool IsPublic(string method) => PublicMethods.Contains(method);

    /// <summary>The path from the host's root with each parameter replaced by its raw (already escaped) value.</summary>
    public string PathWith(IReadOnlyDictionary<string, string> values) =>
        "/" + Parameter().Replace(Template, m => values[m.Groups[1].Value]);

    public override string ToString() => Template;

    [GeneratedRegex(@"\{\*?(\w+)(?::[^}]*)?\}")]
    private static partial Regex Parameter();
}

public enum FieldKind
{
    Text,
    Bool,
    Int,
    TextList,
    AgentList,
}

/// <summary>A field of a request body and its bounds, as the OpenAPI document and the validators state them.</summary>
public sealed record BodyField(
    string Name,
    FieldKind Kind,
    bool Required = false,
    int MaxLength = 0,
    int MaxItems = 0,
    int ItemMaxLength = 0,
    long Min = 0,
    long Max = 0);

/// <summary>A query parameter a route reads, with its inclusive range.</summary>
public sealed record QueryField(string Name, long Min, long Max);

/// <summary>An account's stored things, by the route parameter that names them, for tests to aim at.</summary>
public sealed record AccountIds(
    string AccountId,
    string ApiKey,
    string Email,
    string WaitingRunId,
    string WaitingTaskId,
    IReadOnlyList<string> OtherWaitingRunTasks,
    string CompletedRunId,
    IReadOnlyList<string> CompletedRunTasks,
    string CancelledRunId,
    IReadOnlyList<string> CancelledRunTasks,
    string ProviderId,
    string WebhookId,
    string? ToolServerId = null,
    string? KeyId = null)
{
    public IReadOnlyList<string> RunIds => [WaitingRunId, CompletedRunId, CancelledRunId];

    /// <summary>Every id and secret of this account that a response to another account must never show.</summary>
    public IReadOnlyList<string> Identifying =>
        [AccountId, ApiKey, Email, WaitingRunId, CompletedRunId, CancelledRunId, ProviderId, WebhookId, .. ToolServerId is null ? [] : new[] { ToolServerId },
            .. KeyId is null ? [] : new[] { KeyId }];

    public IReadOnlyList<string> TasksOf(string runId) =>
        runId == WaitingRunId ? [WaitingTaskId, .. OtherWaitingRunTasks]
        : runId == CompletedRunId ? CompletedRunTasks
        : runId == CancelledRunId ? CancelledRunTasks
        : throw new ArgumentException($"{runId} is not one of this account's runs.", nameof(runId));

    /// <summary>
    /// Every way to fill the route's parameters with this account's ids; throws for a parameter no one has taught
    /// the tests to fill, so that a new kind of id cannot slip past the checks that walk the route table.
    /// </summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Fill(CatalogRoute route)
    {
        var unknown = route.Parameters.Where(p => p is not ("runId" or "taskId" or "providerId" or "webhookId" or "serverId" or "keyId")).ToList();
        if (unknown.Count > 0)
        {
            throw new UnknownRouteParameterException(route, unknown);
        }

        IEnumerable<Dictionary<string, string>> fills = [new Dictionary<string, string>()];
        if (route.Parameters.Contains("runId"))
        {
            fills = fills.SelectMany(f => RunIds.Select(r => new Dictionary<string, string>(f) { ["runId"] = r }));
        }

        if (route.Parameters.Contains("taskId"))
        {
            fills = fills.SelectMany(f => TasksOf(f["runId"]).Select(t => new Dictionary<string, string>(f) { ["taskId"] = t }));
        }

        if (route.Parameters.Contains("providerId"))
        {
            fills = fills.Select(f => new Dictionary<string, string>(f) { ["providerId"] = ProviderId });
        }

        if (route.Parameters.Contains("webhookId"))
        {
            fills = fills.Select(f => new Dictionary<string, string>(f) { ["webhookId"] = WebhookId });
        }

        if (route.Parameters.Contains("serverId"))
        {
            // An account seeded without a tool server still fills the route, with an id no one has.
            fills = fills.Select(f => new Dictionary<string, string>(f) { ["serverId"] = ToolServerId ?? "mcs_" + new string('0', 20) });
        }

        if (route.Parameters.Contains("keyId"))
        {
            // The key the account was registered with, its only one; an account seeded without it gets an id no key has.
            fills = fills.Select(f => new Dictionary<string, string>(f) { ["keyId"] = KeyId ?? "key_" + new string('0', 20) });
        }

        return fills.ToList();
    }
}

public sealed class UnknownRouteParameterException(CatalogRoute route, IReadOnlyList<string> parameters) : Exception(
    $"Route {route.Template} has parameter(s) {string.Join(", ", parameters.Select(p => "{" + p + "}"))} that the hostile-input tests do not know " +
    "how to fill: teach AccountIds.Fill (Integration/Hostile/RouteShapes.cs) which stored ids they name, so the route is checked for tenant isolation.");

/// <summary>
/// What the tests know of one route and method beyond the catalog: the body it reads and a valid one, the queries it
/// reads, and which of the caller's own targets it would act on (a mutating request aimed at one of those with
/// nothing else wrong would really act).
/// </summary>
public sealed record RouteShape(
    string Method,
    string Template,
    IReadOnlyList<BodyField> Fields,
    IReadOnlyList<QueryField> Query,
    Func<ShapeContext, JsonObject>? ValidBody,
    Func<AccountIds, IReadOnlyDictionary<string, string>, string?> Conflict)
{
    public bool ReadsBody => ValidBody is not null;
}

/// <summary>What a body builder may use: the caller's ids and a source of fresh values.</summary>
public sealed record ShapeContext(AccountIds Caller, Random Random, Func<string> FreshEmail);

/// <summary>The shapes of the routes this version of the API has; a route missing here is still fuzzed, generically.</summary>
public static class RouteShapes
{
    static readonly Func<AccountIds, IReadOnlyDictionary<string, string>, string?> NoConflict = (_, _) => null;

    public static readonly IReadOnlyList<RouteShape> All =
    [
        new("POST", "api/v1/auth/register",
            [new("name", FieldKind.Text, Required: true, MaxLength: 100), new("email", FieldKind.Text, Required: true, MaxLength: 254)],
            [],
            c => new JsonObject { ["name"] = Pick(c.Random, "Fuzz user", "Ünïcode Nåme", "O'Brien \"Q\""), ["email"] = c.FreshEmail() },
            NoConflict),

        new("POST", "api/v1/runs",
            [
                new("task", FieldKind.Text, Required: true, MaxLength: RunsFunctions.MaxTaskLength),
                new("agents", FieldKind.AgentList, MaxItems: RunsFunctions.MaxAgents),
                new("ask_me_about", FieldKind.TextList, MaxItems: RunsFunctions.MaxTopics, ItemMaxLength: 200),
                new("human_gates", FieldKind.TextList, MaxItems: RunsFunctions.MaxTopics, ItemMaxLength: 100),
                new("require_approval", FieldKind.Bool),
                new("provider_id", FieldKind.Text),
                new("human_timeout_seconds", FieldKind.Int, Min: 1, Max: RunsFunctions.MaxTimeoutSeconds),
            ],
            [],
            StartRunBody,
            NoConflict),

        new("GET", "api/v1/runs", [], [new("limit", 1, 100), new("offset", 0, 1_000_000)], null, NoConflict),

        new("GET", "api/v1/runs/{runId}", [], [], null, NoConflict),

        new("GET", "api/v1/runs/{runId}/tasks", [], [], null, NoConflict),

        new("GET", "api/v1/runs/{runId}/events", [], [new("after", 0, int.MaxValue), new("limit", 1, 1000)], null, NoConflict),

        new("POST", "api/v1/runs/{runId}/plan/review",
            [new("approved", FieldKind.Bool, Required: true), new("feedback", FieldKind.Text, MaxLength: PlanReviewFunctions.MaxFeedbackLength)],
            [],
            c => new JsonObject { ["approved"] = true },
            (_, _) => "the run is not waiting on its plan"),

        new("POST", "api/v1/runs/{runId}/budget",
            [new("max_tokens", FieldKind.Int, Min: 1, Max: 1_000_000_000), new("max_tool_calls", FieldKind.Int, Min: 1, Max: 10_000)],
            [],
            c => new JsonObject { ["max_tokens"] = 1_000_000 },
            (owner, ids) => ids["runId"] == owner.CompletedRunId || ids["runId"] == owner.CancelledRunId ? "the run has ended" : null),

        new("POST", "api/v1/runs/{runId}/retry", [], [], null,
            (owner, ids) => ids["runId"] == owner.CancelledRunId ? null : "the run is neither failed nor cancelled"),

        new("DELETE", "api/v1/runs/{runId}", [], [], null,
            (owner, ids) => ids["runId"] == owner.CompletedRunId ? "the run is completed" : null),

        new("POST", "api/v1/runs/{runId}/tasks/{taskId}/complete",
            [
                new("output", FieldKind.Text, MaxLength: TasksFunctions.MaxOutputLength),
                new("approved", FieldKind.Bool),
                new("feedback", FieldKind.Text, MaxLength: TasksFunctions.MaxOutputLength),
            ],
            [],
            c => new JsonObject { ["output"] = Pick(c.Random, "Company: a workflow API. Voice: direct.", "Ünïcödé answer ✓", "x") },
            (owner, ids) => ids["runId"] != owner.WaitingRunId ? "the run has ended"
                : ids["taskId"] != owner.WaitingTaskId ? "the task is not waiting for a human" : null),

        new("POST", "api/v1/providers",
            [
                new("provider", FieldKind.Text, Required: true, MaxLength: 40),
                new("api_key", FieldKind.Text, Required: true, MaxLength: 1000),
                new("label", FieldKind.Text, MaxLength: 100),
                new("model", FieldKind.Text, Required: true, MaxLength: 200),
                new("endpoint", FieldKind.Text, MaxLength: 500),
            ],
            [],
            ProviderBody,
            NoConflict),

        new("GET", "api/v1/providers", [], [], null, NoConflict),

        new("DELETE", "api/v1/providers/{providerId}", [], [], null, NoConflict),

        new("POST", "api/v1/webhooks",
            [
                new("url", FieldKind.Text, Required: true, MaxLength: WebhookTargets.MaxUrlLength),
                new("events", FieldKind.TextList, MaxItems: EventTypes.All.Count, ItemMaxLength: 64),
                new("description", FieldKind.Text, MaxLength: RunWebhooksFunctions.MaxDescriptionLength),
            ],
            [],
            WebhookBody,
            NoConflict),

        new("GET", "api/v1/webhooks", [], [], null, NoConflict),

        new("DELETE", "api/v1/webhooks/{webhookId}", [], [], null, NoConflict),

        // Reads no body: the new secret is made by the server.
        new("POST", "api/v1/webhooks/{webhookId}/rotate-secret", [], [], null, NoConflict),

        new("GET", "api/v1/webhooks/{webhookId}/deliveries", [], [new("limit", 1, RunWebhooksFunctions.MaxDeliveries)], null, NoConflict),

        // The URL's port has no listener: a request the API took would be refused at connecting (422), never registered.
        new("POST", "api/v1/tool-servers",
            [
                new("url", FieldKind.Text, Required: true, MaxLength: ToolServersFunctions.MaxUrlLength),
                new("label", FieldKind.Text, MaxLength: ToolServersFunctions.MaxLabelLength),
            ],
            [],
            c => new JsonObject { ["url"] = "http://127.0.0.1:9/mcp", ["label"] = Pick(c.Random, "Search", "Ünïcödé tools ✓") },
            NoConflict),

        new("GET", "api/v1/tool-servers", [], [], null, NoConflict),

        new("GET", "api/v1/tool-servers/{serverId}", [], [], null, NoConflict),

        new("DELETE", "api/v1/tool-servers/{serverId}", [], [], null, NoConflict),

        // Reads no body: the server is asked for its tools again.
        new("POST", "api/v1/tool-servers/{serverId}/refresh", [], [], null, NoConflict),

        new("POST", "api/v1/auth/keys",
            [new("label", FieldKind.Text, Required: true, MaxLength: KeysFunctions.MaxLabelLength)],
            [],
            c => new JsonObject { ["label"] = Pick(c.Random, "CI pipeline", "Ünïcödé key ✓") },
            NoConflict),

        new("GET", "api/v1/auth/keys", [], [], null, NoConflict),

        // Each seeded account has one key: revoking it is refused as its last.
        new("DELETE", "api/v1/auth/keys/{keyId}", [], [], null, (_, _) => "the account's last key"),

        // Reads nothing but the key: a request that could act would close the account, so every one carries a defect.
        new("DELETE", "api/v1/account", [], [], null, NoConflict),

        new("GET", "api/v1/agents/templates", [], [], null, NoConflict),
        new("GET", "api/v1/health", [], [], null, NoConflict),
        new("GET", "api/v1/openapi.json", [], [], null, NoConflict),
    ];

    public static RouteShape? Find(string method, string template) =>
        All.FirstOrDefault(s => s.Method == method && string.Equals(s.Template, template, StringComparison.OrdinalIgnoreCase));

    static JsonObject StartRunBody(ShapeContext c)
    {
        var body = new JsonObject { ["task"] = Pick(c.Random, "Research competitor pricing. Draft a launch plan.", "Résumé the market — 日本語 too.") };
        if (c.Random.Next(2) == 0)
        {
            body["ask_me_about"] = new JsonArray("company details");
        }

        if (c.Random.Next(3) == 0)
        {
            body["human_gates"] = new JsonArray("publish");
        }

        if (c.Random.Next(3) == 0)
        {
            body["agents"] = new JsonArray(new JsonObject { ["name"] = "research" }, new JsonObject { ["name"] = "writer", ["instructions"] = "Be brief." });
        }

        if (c.Random.Next(3) == 0)
        {
            body["require_approval"] = c.Random.Next(2) == 0;
        }

        if (c.Random.Next(3) == 0)
        {
            body["human_timeout_seconds"] = 86400;
        }

        if (c.Random.Next(4) == 0)
        {
            body["provider_id"] = c.Caller.ProviderId;
        }

        return body;
    }

    static JsonObject ProviderBody(ShapeContext c) => c.Random.Next(3) switch
    {
        0 => new JsonObject { ["provider"] = "openai", ["api_key"] = "sk-fuzz-" + c.Random.Next(), ["label"] = "Fuzz", ["model"] = "gpt-4o-mini" },
        1 => new JsonObject { ["provider"] = "openai_compatible", ["api_key"] = "ollama", ["model"] = "llama3.1:8b", ["endpoint"] = "https://llm.example.com/v1" },
        _ => new JsonObject { ["provider"] = "azure_openai", ["api_key"] = "az-" + c.Random.Next(), ["model"] = "gpt-4o", ["endpoint"] = "https://fuzz.openai.azure.com/" },
    };

    static JsonObject WebhookBody(ShapeContext c)
    {
        var body = new JsonObject { ["url"] = "https://hooks.example.com/orchflow/" + c.Random.Next() };
        if (c.Random.Next(2) == 0)
        {
            body["events"] = new JsonArray(Pick(c.Random, "run.waiting_human", "task.waiting_human"), "run.completed");
        }

        if (c.Random.Next(3) == 0)
        {
            body["description"] = Pick(c.Random, "Backend notifications", "Ünïcödé hook ✓");
        }

        return body;
    }

    static string Pick(Random random, params string[] choices) => choices[random.Next(choices.Length)];
}
