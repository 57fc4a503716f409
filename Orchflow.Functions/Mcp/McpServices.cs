// The SDK marks alternate results (a tool call answered with a task) experimental; the tasks extension is built on them.
#pragma warning disable MCPEXP002
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Extensions.Tasks;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Orchflow.Functions.Mcp;

/// <summary>Wires Orchflow's MCP server: the official SDK's Streamable HTTP transport, stateless, with the tools and the tasks extension.</summary>
public static class McpServices
{
    public static IServiceCollection AddOrchflowMcp(this IServiceCollection services, IConfiguration configuration, bool isDevelopment)
    {
        services.AddValidatedOptions<McpOptions, McpOptionsValidation>(configuration.GetSection(McpOptions.Section))
            .PostConfigure(o => o.IsDevelopment = isDevelopment);
        services.AddSingleton<McpAccess>();
        services.AddSingleton<McpEndpoint>();
        services.AddRouting();

        // Before the tasks extension's filter, which it must run ahead of (see McpTools.StartFirstAsync).
        services.Configure<McpServerOptions>(o => o.Filters.Request.CallToolWithAlternateFilters.Add(McpTools.StartFirstAsync));
        var builder = services.AddMcpServer(o =>
            {
                o.ServerInfo = new Implementation { Name = "orchflow", Title = "Orchflow", Version = typeof(McpServices).Assembly.GetName().Version?.ToString() ?? "1.0" };
                o.ServerInstructions = "Orchflow runs goals as plans of agent and human tasks. Start one with start_run; a run waiting on a person " +
                                       "asks through input requests (MCP tasks) or answer_task.";
            })
            // Stateless: every request stands alone, so any instance answers any request.
            .WithHttpTransport(o => o.Stateless = true)
            .WithTools(McpTools.All);
        // One store for the process, as the extension wants under stateless HTTP; it keeps nothing, reading the runs on every call.
        builder.WithTasks(new RunTaskStore(), o => o.ExecutionModeSelector = request =>
            request.Params?.Name == McpTools.StartRun ? McpTaskExecutionMode.Optional : McpTaskExecutionMode.Synchronous);
        return services;
    }
}
