using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.DurableTask.Client;

namespace Orchflow.Functions.Mcp;

/// <summary>
/// The official SDK's Streamable HTTP handler (what <c>MapMcp</c> maps), taken once from the endpoints it builds so the
/// <c>/mcp</c> function can hand it a request in either host: the Functions worker has no endpoint routing of its own to
/// map it into, and the standalone host serves every function through the same pipeline.
/// </summary>
public sealed class McpEndpoint(IServiceProvider services)
{
    readonly Lazy<RequestDelegate> post = new(() => Build(services));

    /// <summary>The answer to one MCP request (a JSON-RPC message POSTed to /mcp), served for <paramref name="accountId"/>.</summary>
    public IActionResult Serve(HttpContext http, string accountId, DurableTaskClient durable) =>
        new Answer(post.Value, new McpCall(accountId, durable, http.RequestServices));

    static RequestDelegate Build(IServiceProvider services)
    {
        var routes = new Routes(services);
        routes.MapMcp();
        var endpoints = routes.DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>().ToList();
        return endpoints.Single(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains(HttpMethods.Post) == true).RequestDelegate
               ?? throw new InvalidOperationException("The MCP SDK mapped no POST handler.");
    }

    /// <summary>The SDK's handler run on the request, for the caller the pipeline authenticated.</summary>
    sealed class Answer(RequestDelegate handler, McpCall call) : IActionResult
    {
        public Task ExecuteResultAsync(ActionContext context)
        {
            McpCall.Enter(call);
            return handler(context.HttpContext);
        }
    }

    /// <summary>An endpoint table that only collects what is mapped into it.</summary>
    sealed class Routes(IServiceProvider services) : IEndpointRouteBuilder
    {
        public IServiceProvider ServiceProvider => services;

        public ICollection<EndpointDataSource> DataSources { get; } = new List<EndpointDataSource>();

        public IApplicationBuilder CreateApplicationBuilder() => new ApplicationBuilder(services);
    }
}
