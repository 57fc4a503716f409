using System.Reflection;
using System.Text.Json.Nodes;
using Orchflow.Functions.Http;

namespace Orchflow.Tests.Functions;

/// <summary>
/// What the Azure Functions host will load, read from the functions.metadata the Functions SDK writes at build time,
/// checked against the API contract and against the standalone host's route table (one source of truth).
/// </summary>
[TestFixture]
public sealed class FunctionsMetadataTests
{
    /// <summary>Every HTTP function docs/api.md describes, the console's two and /mcp included: name → (route, methods, comma-separated).</summary>
    static readonly Dictionary<string, (string Route, string Method)> ExpectedHttp = new()
    {
        ["Register"] = ("api/v1/auth/register", "POST"),
        ["GetAccount"] = ("api/v1/account", "GET"),
        ["CloseAccount"] = ("api/v1/account", "DELETE"),
        ["CreateKey"] = ("api/v1/auth/keys", "POST"),
        ["ListKeys"] = ("api/v1/auth/keys", "GET"),
        ["RevokeKey"] = ("api/v1/auth/keys/{keyId}", "DELETE"),
        ["StartRun"] = ("api/v1/runs", "POST"),
        ["ListRuns"] = ("api/v1/runs", "GET"),
        ["GetRun"] = ("api/v1/runs/{runId}", "GET"),
        ["CancelRun"] = ("api/v1/runs/{runId}", "DELETE"),
        ["GetRunTasks"] = ("api/v1/runs/{runId}/tasks", "GET"),
        ["GetRunEvents"] = ("api/v1/runs/{runId}/events", "GET"),
        ["ReviewPlan"] = ("api/v1/runs/{runId}/plan/review", "POST"),
        ["RaiseBudget"] = ("api/v1/runs/{runId}/budget", "POST"),
        ["RetryRun"] = ("api/v1/runs/{runId}/retry", "POST"),
        ["CompleteTask"] = ("api/v1/runs/{runId}/tasks/{taskId}/complete", "POST"),
        ["CreateProvider"] = ("api/v1/providers", "POST"),
        ["ListProviders"] = ("api/v1/providers", "GET"),
        ["DeleteProvider"] = ("api/v1/providers/{providerId}", "DELETE"),
        ["ListAgentTemplates"] = ("api/v1/agents/templates", "GET"),
        ["Health"] = ("api/v1/health", "GET"),
        ["GetOpenApi"] = ("api/v1/openapi.json", "GET"),
        ["CreateWebhook"] = ("api/v1/webhooks", "POST"),
        ["ListWebhooks"] = ("api/v1/webhooks", "GET"),
        ["DeleteWebhook"] = ("api/v1/webhooks/{webhookId}", "DELETE"),
        ["RotateWebhookSecret"] = ("api/v1/webhooks/{webhookId}/rotate-secret", "POST"),
        ["ListWebhookDeliveries"] = ("api/v1/webhooks/{webhookId}/deliveries", "GET"),
        ["CreateToolServer"] = ("api/v1/tool-servers", "POST"),
        ["ListToolServers"] = ("api/v1/tool-servers", "GET"),
        ["GetToolServer"] = ("api/v1/tool-servers/{serverId}", "GET"),
        ["DeleteToolServer"] = ("api/v1/tool-servers/{serverId}", "DELETE"),
        ["RefreshToolServer"] = ("api/v1/tool-servers/{serverId}/refresh", "POST"),
        ["ConsoleIndex"] = ("console", "GET"),
        ["ConsoleAsset"] = ("console/assets/{version}/{file}", "GET"),
        // MCP's Streamable HTTP: POST carries the messages; GET and DELETE are answered 405, as a stateless server does.
        ["Mcp"] = ("mcp", "GET,POST,DELETE"),
    };

    /// <summary>The webhook queue's trigger: the Functions app's worker for dispatches and delivery attempts.</summary>
    const string WebhookQueueTrigger = "HandleWebhookMessage";

    /// <summary>The erasure sweep's timer: finishes erasures asked for and erases ended runs past retention.</summary>
    const string ErasureTimer = "SweepErasures";

    /// <summary>The catch-all answering 404 and 405 for what no other function serves.</summary>
    const string Fallback = "Unmatched";

    /// <summary>
    /// Those that start or signal runs (/mcp among them), health, which looks an instance up to know the durable backend
    /// answers, and the erasure sweep, which ends and purges erased runs' orchestrations.
    /// </summary>
    static readonly string[] DurableClientFunctions = ["StartRun", "CancelRun", "CompleteTask", "ReviewPlan", "RaiseBudget", "RetryRun", "Health", "Mcp", ErasureTimer];

    /// <summary>The engine's activities as the standalone host registers them: the Functions app's wrappers must be exactly these.</summary>
    static readonly string[] Activities = [.. EngineTasks.Activities.Select(a => a.Name)];

    static readonly string Orchestrator = EngineTasks.Orchestrator.Name;

    JsonArray functions = null!;

    [OneTimeSetUp]
    public void ReadMetadata()
    {
        var path = Path.Combine(RepoPaths.FunctionsOutput, "functions.metadata");
        Assert.That(File.Exists(path), Is.True, $"{path} is missing: build Orchflow.Functions first.");
        functions = JsonNode.Parse(File.ReadAllText(path))!.AsArray();
    }

    [Test]
    public void Metadata_ListsExactlyTheExpectedFunctions()
    {
        var expected = ExpectedHttp.Keys.Concat(Activities).Append(Orchestrator).Append(Fallback).Append(WebhookQueueTrigger).Append(ErasureTimer);

        Assert.That(functions.Select(f => Name(f!)), Is.EquivalentTo(expected));
    }

    [Test]
    public void Metadata_EachHttpFunction_HasItsRouteMethodAndAnonymousAuth()
    {
        Assert.Multiple(() =>
        {
            foreach (var (name, (route, method)) in ExpectedHttp)
            {
                var trigger = Bindings(Function(name)).SingleOrDefault(b => Type(b) == "httpTrigger");
                Assert.That(trigger, Is.Not.Null, $"{name} has no httpTrigger binding");
                if (trigger is null)
                {
                    continue;
                }

                Assert.That(trigger["route"]?.GetValue<string>(), Is.EqualTo(route), $"{name} route");
                Assert.That(Methods(trigger), Is.EquivalentTo(method.Split(',')), $"{name} methods");
                Assert.That(trigger["authLevel"]?.GetValue<string>(), Is.EqualTo("anonymous").IgnoreCase, $"{name} authLevel");
                Assert.That(trigger["direction"]?.GetValue<string>(), Is.EqualTo("In").IgnoreCase, $"{name} direction");
            }
        });
    }

    [Test]
    public void Metadata_DurableClientBinding_IsOnExactlyTheFunctionsThatStartOrSignalRunsAndHealth()
    {
        var withClient = functions
            .Where(f => Bindings(f!).Any(b => Type(b) == "durableClient"))
            .Select(f => Name(f!));

        Assert.That(withClient, Is.EquivalentTo(DurableClientFunctions));
    }

    [Test]
    public void Metadata_OrchestratorAndActivities_HaveTheirTriggers()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Bindings(Function(Orchestrator)).Select(Type), Is.EqualTo(new[] { "orchestrationTrigger" }), Orchestrator);
            foreach (var activity in Activities)
            {
                Assert.That(Bindings(Function(activity)).Select(Type), Is.EqualTo(new[] { "activityTrigger" }), activity);
            }

            var triggered = functions.Where(f => Bindings(f!).Any(b => Type(b) is "orchestrationTrigger" or "activityTrigger")).Select(f => Name(f!));
            Assert.That(triggered, Is.EquivalentTo(Activities.Append(Orchestrator)), "no other function is a durable trigger");
        });
    }

    [Test]
    public void Metadata_WebhookQueueTrigger_ReadsTheConfiguredQueueWithTheHostsStorageConnection()
    {
        var trigger = Bindings(Function(WebhookQueueTrigger)).Single();

        Assert.Multiple(() =>
        {
            Assert.That(Type(trigger), Is.EqualTo("queueTrigger"));
            // The same setting the app's own queue client reads, so both name one queue.
            Assert.That(trigger["queueName"]?.GetValue<string>(), Is.EqualTo("%ORCHFLOW_WEBHOOK_QUEUE%"), "a flat setting name, which Flex's scale controller resolves");
            Assert.That(trigger["connection"]?.GetValue<string>(), Is.EqualTo("AzureWebJobsStorage"));
            Assert.That(functions.Count(f => Bindings(f!).Any(b => Type(b) == "queueTrigger")), Is.EqualTo(1), "no other function is queue-triggered");
        });
    }

    [Test]
    public void Metadata_ErasureTimer_RunsEveryMinuteWithADurableClient()
    {
        var bindings = Bindings(Function(ErasureTimer)).ToList();
        var timer = bindings.Single(b => Type(b) == "timerTrigger");

        Assert.Multiple(() =>
        {
            Assert.That(timer["schedule"]?.GetValue<string>(), Is.EqualTo("0 * * * * *"));
            Assert.That(bindings.Select(Type), Is.EquivalentTo(new[] { "timerTrigger", "durableClient" }));
            Assert.That(functions.Count(f => Bindings(f!).Any(b => Type(b) == "timerTrigger")), Is.EqualTo(1), "no other function is timer-triggered");
        });
    }

    [Test]
    public void Metadata_EveryEntryPoint_IsAFunctionOfTheFunctionsAssembly()
    {
        var assembly = typeof(FunctionCatalog).Assembly;
        Assert.Multiple(() =>
        {
            foreach (var function in functions.Select(f => f!))
            {
                var name = Name(function);
                Assert.That(function["scriptFile"]?.GetValue<string>(), Is.EqualTo(Path.GetFileName(assembly.Location)), $"{name} scriptFile");
                var entryPoint = function["entryPoint"]!.GetValue<string>();
                var type = assembly.GetType(entryPoint[..entryPoint.LastIndexOf('.')]);
                var method = type?.GetMethod(entryPoint[(entryPoint.LastIndexOf('.') + 1)..]);
                Assert.That(method, Is.Not.Null, $"{name}: entry point {entryPoint} does not exist");
                Assert.That(method?.GetCustomAttribute<Microsoft.Azure.Functions.Worker.FunctionAttribute>()?.Name, Is.EqualTo(name), $"{name}: [Function] name");
            }
        });
    }

    [Test]
    public void Metadata_HttpRoutes_EqualTheStandaloneHostsRouteTable()
    {
        var fromMetadata = functions
            .SelectMany(f => Bindings(f!).Where(b => Type(b) == "httpTrigger").SelectMany(t => Methods(t).Select(m => (Name(f!), t["route"]!.GetValue<string>(), m))))
            .OrderBy(x => x.Item2, StringComparer.Ordinal).ThenBy(x => x.m, StringComparer.Ordinal)
            .ToList();
        var fromCatalog = FunctionCatalog.Http
            .SelectMany(f => f.Methods.Select(m => (f.Name, f.Route, m)))
            .OrderBy(x => x.Route, StringComparer.Ordinal).ThenBy(x => x.m, StringComparer.Ordinal)
            .ToList();

        Assert.That(fromCatalog, Is.EqualTo(fromMetadata));
    }

    [Test]
    public void Metadata_HttpRoutes_CoverTheApiContract()
    {
        var routes = functions
            .SelectMany(f => Bindings(f!).Where(b => Type(b) == "httpTrigger").SelectMany(t => Methods(t).Select(m => $"{m} {t["route"]!.GetValue<string>()}")))
            .ToList();

        Assert.That(routes, Is.SupersetOf(ExpectedHttp.Values.SelectMany(e => e.Method.Split(',').Select(m => $"{m} {e.Route}"))));
    }

    [Test]
    public void Catalog_PublicRoutes_AreExactlyRegisterTemplatesHealthAndTheConsole()
    {
        var publicRoutes = FunctionCatalog.Http.Where(f => f.IsPublic).Select(f => f.Name);

        Assert.That(publicRoutes, Is.EquivalentTo(new[] { "Register", "ListAgentTemplates", "Health", "GetOpenApi", "ConsoleIndex", "ConsoleAsset", Fallback }));
    }

    [Test]
    public void Metadata_CatchAll_ComesLastByNameAndInTheFile()
    {
        // The Functions host tries routes in the order it registers functions, which follows their names or this
        // file's order, depending on the host; the catch-all must be last in both or it would shadow real routes.
        var http = functions.Where(f => Bindings(f!).Any(b => Type(b) == "httpTrigger")).Select(f => Name(f!)).ToList();
        var fallback = Bindings(Function(Fallback)).Single(b => Type(b) == "httpTrigger");

        Assert.Multiple(() =>
        {
            Assert.That(fallback["route"]?.GetValue<string>(), Is.EqualTo("api/{*path}"));
            Assert.That(http[^1], Is.EqualTo(Fallback), "last in functions.metadata");
            Assert.That(http.Order(StringComparer.Ordinal).Last(), Is.EqualTo(Fallback), "last by ordinal name");
            Assert.That(http.Order(StringComparer.OrdinalIgnoreCase).Last(), Is.EqualTo(Fallback), "last by name, ignoring case");
        });
    }

    [Test]
    public void HostJson_RoutePrefix_IsEmptyAsTheRoutesNameTheirBase()
    {
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "host.json")))!;

        var prefix = host["extensions"]?["http"]?["routePrefix"]?.GetValue<string>();

        Assert.Multiple(() =>
        {
            Assert.That(prefix, Is.Empty, "every route starts with the API base itself, so /console can be served too");
            Assert.That(FunctionCatalog.Http.Where(f => !f.Route.StartsWith("api/v1/", StringComparison.Ordinal) && !f.IsFallback).Select(f => f.Route),
                Is.EquivalentTo(new[] { "console", "console/assets/{version}/{file}", "mcp" }), "every route but the console's and /mcp starts at the API base");
            Assert.That(FunctionCatalog.Http.Where(f => f.IsApi).Select(f => f.Name), Is.EquivalentTo(ExpectedHttp.Keys.Where(k => !k.StartsWith("Console", StringComparison.Ordinal) && k != "Mcp")),
                "IsApi tells the API's routes from the console's");
            Assert.That(host["version"]?.GetValue<string>(), Is.EqualTo("2.0"));
        });
    }

    JsonNode Function(string name) =>
        functions.SingleOrDefault(f => Name(f!) == name) ?? throw new AssertionException($"functions.metadata has no function '{name}'.");

    static string Name(JsonNode function) => function["name"]!.GetValue<string>();

    static IEnumerable<JsonNode> Bindings(JsonNode function) =>
        function["bindings"]?.AsArray().Select(b => b!) ?? [];

    static string Type(JsonNode binding) => binding["type"]!.GetValue<string>();

    static string[] Methods(JsonNode trigger) =>
        trigger["methods"]?.AsArray().Select(m => m!.GetValue<string>().ToUpperInvariant()).ToArray() ?? [];
}
