using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orchflow.Abstractions;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tools;

/// <summary>Wires tools: their settings, the tool servers' store, the HTTP connections and MCP sessions, and the toolbox.</summary>
public static class ToolServices
{
    public static IServiceCollection AddTools(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<ToolOptions, ToolOptionsValidation>(configuration.GetSection(ToolOptions.Section));
        services.AddSingleton<IToolServerStore, TableToolServerStore>();
        services.AddSingleton<ToolHttp>();
        services.AddSingleton<McpConnector>();
        services.AddSingleton<McpSessions>();
        services.AddSingleton<ToolServers>();
        services.AddSingleton<FetchUrlTool>();
        services.AddSingleton<IToolbox, Toolbox>();
        return services;
    }
}
