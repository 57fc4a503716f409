using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Orchflow.Functions.Http;
using Orchflow.Functions.Mcp;

namespace Orchflow.Functions.Functions;

/// <summary>
/// <c>/mcp</c>: Orchflow as an MCP server over Streamable HTTP, in either host. The pipeline has authenticated and
/// limited the request like any other (<see cref="McpAccess"/>); the official SDK's handler answers it.
/// </summary>
public sealed class McpFunctions(McpEndpoint endpoint)
{
    public const string Route = "mcp";

    [Function(nameof(Mcp))]
    public IActionResult Mcp(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "delete", Route = Route)] HttpRequest req,
        [DurableClient] DurableTaskClient durable) =>
        // Stateless: no stream to open with GET and no session to end with DELETE, which the transport answers with 405.
        req.Method == HttpMethods.Post
            ? endpoint.Serve(req.HttpContext, ApiKeyAuthenticator.CallerOf(req).AccountId, durable)
            : Problems.MethodNotAllowed(req.Method, req.Path, [HttpMethods.Post]);
}
