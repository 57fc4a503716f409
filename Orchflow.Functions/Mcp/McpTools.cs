// The SDK marks alternate results (a tool call answered with a task) experimental; the tasks extension is built on them.
#pragma warning disable MCPEXP002
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Functions;
using Orchflow.Functions.Http;
using Orchflow.Functions.Runs;

namespace Orchflow.Functions.Mcp;

/// <summary>
/// Orchflow's MCP tools: <c>start_run</c>, <c>get_run</c>, <c>list_runs</c>, <c>answer_task</c> and <c>cancel_run</c>.
/// Their arguments are the HTTP API's request bodies and parameters, read with its JSON rules, and their results its
/// response bodies, each under the schema the OpenAPI document gives it; each calls the code its route calls, for the
/// caller's account. A refusal (the API's 4xx) is the tool's error, its problem details as the text.
/// </summary>
public static class McpTools
{
    public const string StartRun = "start_run";

    static readonly AsyncLocal<RunRecord?> Started = new();

    /// <summary>The run this call of start_run started, before the tasks extension made it the call's task.</summary>
    internal static RunRecord? StartedRun => Started.Value;

    /// <summary>Every tool, in the order tools/list gives them.</summary>
    public static IReadOnlyList<McpServerTool> All { get; } =
    [
        new ApiTool(StartRun,
            "Start an Orchflow run: a goal that a language model plans into tasks, agents run, and people answer where asked. " +
            "The arguments are the body of POST /api/v1/runs. A client with MCP tasks follows the run as a task: input_required while " +
            "it waits on a person (each question an elicitation), the final output as its result. Others get the run at once and " +
            "follow it with get_run and answer_task.",
            McpSchemas.Of("StartRunRequest"), McpSchemas.Of("Run"),
            (_, _, _) => Task.FromResult(ApiResult.Accepted(RunView.Of(StartedRun ?? throw new InvalidOperationException("start_run's run was not started.")),
                RunsFunctions.RunLocation(StartedRun.RunId))),
            readOnly: false),
        new ApiTool("get_run",
            "Read a run as GET /api/v1/runs/{run_id} shows it: its status, its tasks (what each waits on, its output), the final output.",
            McpSchemas.Object([("run_id", McpSchemas.Ref("RunId"), true)]), McpSchemas.Of("Run"),
            async (services, arguments, cancellationToken) => await services.Get<RunReads>().GetAsync(McpCall.Current.AccountId, RunIdOf(arguments), cancellationToken),
            readOnly: true),
        new ApiTool("list_runs",
            "List the account's runs, newest first, as GET /api/v1/runs does.",
            McpSchemas.Object([
                ("limit", McpSchemas.Parameter("/runs", "get", "limit"), false),
                ("offset", McpSchemas.Parameter("/runs", "get", "offset"), false),
            ]), McpSchemas.Of("RunList"),
            async (services, arguments, cancellationToken) => await services.Get<RunReads>().ListAsync(McpCall.Current.AccountId,
                Number(arguments, "limit"), Number(arguments, "offset"), cancellationToken),
            readOnly: true),
        new ApiTool("answer_task",
            "Answer a task a run waits on, as POST /api/v1/runs/{run_id}/tasks/{task_id}/complete does: 'answer' is that request's body " +
            "(output, or a form's input, or a verdict on a draft or a tool call).",
            McpSchemas.Object([
                ("run_id", McpSchemas.Ref("RunId"), true),
                ("task_id", McpSchemas.Ref("TaskId"), true),
                ("answer", McpSchemas.Ref("CompleteTaskRequest", "The body of POST /runs/{run_id}/tasks/{task_id}/complete."), true),
            ]), McpSchemas.Of("Task"),
            async (services, arguments, cancellationToken) =>
            {
                var (answer, problem) = Body<CompleteTaskRequest>(arguments, "answer");
                return problem ?? await services.Get<TaskAnswers>().AnswerAsync(McpCall.Current.AccountId, RunIdOf(arguments),
                    (string?)arguments["task_id"] ?? "", answer!, McpCall.Current.Durable, cancellationToken);
            },
            readOnly: false),
        new ApiTool("cancel_run",
            "Cancel a run, as DELETE /api/v1/runs/{run_id} does: running and waiting tasks are cancelled and nothing more starts.",
            McpSchemas.Object([("run_id", McpSchemas.Ref("RunId"), true)]), McpSchemas.Of("Run"),
            async (services, arguments, cancellationToken) => await services.Get<RunCancels>().CancelAsync(McpCall.Current.AccountId, RunIdOf(arguments),
                McpCall.Current.Durable, cancellationToken),
            readOnly: false, destructive: true),
    ];

    /// <summary>
    /// Runs before the tasks extension decides whether a call becomes a task: start_run starts its run here, so a refused
    /// run is the call's error at once and a started one is the task the extension creates (<see cref="RunTaskStore"/>).
    /// </summary>
    public static async ValueTask<ResultOrAlternate<CallToolResult>> StartFirstAsync(
        RequestContext<CallToolRequestParams> request, McpRequestHandler<CallToolRequestParams, ResultOrAlternate<CallToolResult>> next,
        CancellationToken cancellationToken)
    {
        if (request.Params?.Name != StartRun)
        {
            return await next(request, cancellationToken);
        }

        var (body, problem) = Body<StartRunRequest>(Arguments(request.Params), null);
        var started = problem ?? await Get<RunStarts>(McpCall.Current.Services).StartAsync(McpCall.Current.AccountId, body!, McpCall.Current.Durable, cancellationToken);
        if (started.Status >= 400)
        {
            return Result(started);
        }

        Started.Value = ((RunView)started.Body!).RunId is var runId
            ? await Get<IRunStore>(McpCall.Current.Services).GetAsync(McpCall.Current.AccountId, runId, cancellationToken)
            : null;
        return await next(request, cancellationToken);
    }

    /// <summary>An ended run as the result of its MCP task: the final output (or the error) as text, the run as structured content.</summary>
    public static CallToolResult Ended(RunRecord run)
    {
        var view = JsonSerializer.SerializeToElement(RunView.Of(run), ApiJson.Options);
        return new CallToolResult
        {
            IsError = run.Status != RunStatus.Completed,
            Content = [new TextContentBlock { Text = run.Status == RunStatus.Completed ? run.FinalOutput ?? "" : $"The run {run.Status.ToWire()}: {run.Error}" }],
            StructuredContent = view,
        };
    }

    public static JsonElement Serialize(CallToolResult result) => JsonSerializer.SerializeToElement(result, McpJsonUtilities.DefaultOptions.GetTypeInfo<CallToolResult>());

    /// <summary>An API answer as a tool's result: its body as structured content and as text; a refusal as the tool's error.</summary>
    static CallToolResult Result(ApiResult answer)
    {
        var body = answer.Body is null ? "{}" : JsonSerializer.Serialize(answer.Body, answer.Body.GetType(), ApiJson.Options);
        return answer.Status >= 400
            ? new CallToolResult { IsError = true, Content = [new TextContentBlock { Text = body }] }
            : new CallToolResult { Content = [new TextContentBlock { Text = body }], StructuredContent = JsonDocument.Parse(body).RootElement.Clone() };
    }

    static JsonObject Arguments(CallToolRequestParams? call) =>
        call?.Arguments is { } arguments ? JsonSerializer.SerializeToNode(arguments, McpJsonUtilities.DefaultOptions)!.AsObject() : new JsonObject();

    /// <summary>A request body from the arguments (all of them, or one of them), read with the API's JSON rules: unknown fields, wrong types and the like are a 422.</summary>
    static (T? Body, ApiResult? Problem) Body<T>(JsonObject arguments, string? field) where T : class
    {
        var json = field is null ? arguments.ToJsonString() : arguments[field]?.ToJsonString() ?? "null";
        return RequestBody.Parse<T>(System.Text.Encoding.UTF8.GetBytes(json));
    }

    static string RunIdOf(JsonObject arguments) => (string?)(arguments["run_id"] as JsonValue) ?? "";

    static int? Number(JsonObject arguments, string name) => arguments[name] is JsonValue v && v.TryGetValue<int>(out var n) ? n : null;

    static T Get<T>(this IServiceProvider services) where T : notnull => (T)(services.GetService(typeof(T))
        ?? throw new InvalidOperationException($"{typeof(T).Name} is not registered."));

    /// <summary>One tool: its protocol description, and the API call it makes with the request's services and its arguments.</summary>
    sealed class ApiTool(string name, string description, JsonElement input, JsonElement output,
        Func<IServiceProvider, JsonObject, CancellationToken, Task<ApiResult>> call, bool readOnly, bool destructive = false) : McpServerTool
    {
        public override ModelContextProtocol.Protocol.Tool ProtocolTool { get; } = new()
        {
            Name = name,
            Description = description,
            InputSchema = input,
            OutputSchema = output,
            Annotations = new ToolAnnotations { ReadOnlyHint = readOnly, DestructiveHint = destructive, OpenWorldHint = false },
        };

        public override IReadOnlyList<object> Metadata => [];

        public override async ValueTask<CallToolResult> InvokeAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken = default) =>
            Result(await call(McpCall.Current.Services, Arguments(request.Params), cancellationToken));
    }
}
