using Microsoft.Extensions.Options;
using Orchflow.Accounts;

namespace Orchflow.Functions.Mcp;

/// <summary>Checks <see cref="McpOptions"/> at start-up.</summary>
public sealed class McpOptionsValidation : IValidateOptions<McpOptions>
{
    public ValidateOptionsResult Validate(string? name, McpOptions options)
    {
        var errors = new SettingErrors(McpOptions.Section);
        errors.Range(nameof(options.PollIntervalMs), options.PollIntervalMs, 100, 60_000);
        if (options.LoopbackApiKey is { } key)
        {
            if (!options.IsDevelopment)
            {
                errors.Add(nameof(options.LoopbackApiKey), "is for Development only: outside it every MCP client sends its own key.");
            }
            else if (!ApiKeys.IsWellFormed(key))
            {
                errors.Add(nameof(options.LoopbackApiKey), "must be an Orchflow API key (orch_…).");
            }
        }

        return errors.Result();
    }
}
