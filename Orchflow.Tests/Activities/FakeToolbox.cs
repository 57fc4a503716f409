using Orchflow.Abstractions;

namespace Orchflow.Tests.Activities;

/// <summary>Tools for the activities' unit tests: each answers as the test says, and every call made is noted.</summary>
sealed class FakeToolbox : IToolbox
{
    readonly Dictionary<string, (ToolDefinition Tool, Func<string, ToolOutcome> Answer)> tools = new(StringComparer.Ordinal);

    /// <summary>Every call made, in order: the tool and its arguments.</summary>
    public List<(string Tool, string Arguments)> Calls { get; } = [];

    public FakeToolbox With(string name, Func<string, ToolOutcome> answer, string schema = """{"type":"object"}""")
    {
        tools[name] = (new ToolDefinition(name, $"The {name} tool.", schema), answer);
        return this;
    }

    public Task<ToolLookup> FindAsync(string accountId, IReadOnlyCollection<string> names, CancellationToken cancellationToken) =>
        Task.FromResult(new ToolLookup(
            names.Where(tools.ContainsKey).Select(n => tools[n].Tool).ToList(),
            names.Where(n => !tools.ContainsKey(n)).ToList()));

    public Task<ToolOutcome> CallAsync(string accountId, string tool, string argumentsJson, CancellationToken cancellationToken)
    {
        Calls.Add((tool, argumentsJson));
        return Task.FromResult(tools[tool].Answer(argumentsJson));
    }
}
