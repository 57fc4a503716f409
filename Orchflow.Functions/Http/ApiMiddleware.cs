using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Functions.Http.Idempotency;
using Orchflow.Functions.Http.RateLimiting;

namespace Orchflow.Functions.Http;

/// <summary>
/// The Functions host's request pipeline: API key authentication for protected routes, rate limits, and problem details
/// instead of a bare 500 when something fails inside. The standalone host runs <see cref="ApiPipeline"/> the same way.
/// </summary>
public sealed class ApiMiddleware(ApiPipeline pipeline) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        var http = context.GetHttpContext();
        var function = FunctionCatalog.ByName(context.FunctionDefinition.Name);
        if (http is null || function is null)
        {
            await next(context);
            return;
        }

        // The function's answer is left in the invocation result, where the Functions host writes it after this
        // middleware; what the pipeline answers itself (a refusal, a replay) it writes here.
        await pipeline.RunAsync(http, function,
            async () =>
            {
                await next(context);
                return context.GetInvocationResult().Value as IActionResult;
            },
            result =>
            {
                var invocation = context.GetInvocationResult();
                if (!ReferenceEquals(invocation.Value, result))
                {
                    return ApiPipeline.WriteAsync(http, result);
                }

                return Task.CompletedTask;
            });
    }
}

/// <summary>What every API request goes through, in either host.</summary>
public sealed class ApiPipeline(
    ApiKeyAuthenticator authenticator, Mcp.McpAccess mcp, ApiRateLimits limits, IdempotencyKeys idempotency,
    IOptions<RateLimitOptions> rateLimits, ILogger<ApiPipeline> log)
{
    readonly TimeSpan refusalPause = TimeSpan.FromMilliseconds(rateLimits.Value.RefusalPauseMs);

    /// <summary>
    /// Authenticates, limits and (for idempotent functions) guards the request, calls <paramref name="invoke"/> for the
    /// function's answer unless the pipeline answers itself, and hands the answer to <paramref name="write"/>.
    /// </summary>
    public async Task RunAsync(
        Microsoft.AspNetCore.Http.HttpContext http, HttpFunction function, Func<Task<IActionResult?>> invoke, Func<IActionResult, Task> write)
    {
        try
        {
            // A bad key is refused before anything is counted: only keys that exist have buckets.
            var denied = function.IsPublic ? null : function.IsMcp ? await mcp.AuthenticateAsync(http) : await authenticator.AuthenticateAsync(http);
            denied ??= await limits.LimitAsync(http, function);
            if (denied is not null)
            {
                await PauseBeforeRefusalAsync(http, denied);
                await write(denied);
                return;
            }

            var result = function.IsIdempotent ? await idempotency.RunAsync(http, invoke) : await invoke();
            if (result is not null)
            {
                await PauseBeforeRefusalAsync(http, result);
                await write(result);
            }
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is no one to answer.
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            log.LogError(e, "{Function} failed for {Method} {Path} ({TraceId})", function.Name, http.Request.Method, http.Request.Path, http.TraceIdentifier);
            await WriteAsync(http, Problems.Internal(http.TraceIdentifier));
        }
    }

    /// <summary>
    /// Holds a 429 for <see cref="RateLimitOptions.RefusalPauseMs"/> before it is sent: at most a second, and no
    /// Retry-After is shorter than that, so the pause never outlasts the wait the client is told. A client that honours Retry-After loses nothing; one that floods can send one
    /// request per pause on each connection it holds, so what it costs the service stays bounded by its connections.
    /// </summary>
    Task PauseBeforeRefusalAsync(Microsoft.AspNetCore.Http.HttpContext http, IActionResult result) =>
        result is ApiResult { Status: StatusCodes.Status429TooManyRequests } && refusalPause > TimeSpan.Zero
            ? Task.Delay(refusalPause, http.RequestAborted)
            : Task.CompletedTask;

    public static Task WriteAsync(Microsoft.AspNetCore.Http.HttpContext http, IActionResult result) =>
        result.ExecuteResultAsync(new ActionContext(http, http.GetRouteData() ?? new RouteData(), new ActionDescriptor()));
}
