using Orchflow.Abstractions;

namespace Orchflow.Tests.Activities;

/// <summary>Tools for the activities' unit tests: each answers as the test says, and every call made is noted.</summary>
sealed class FakeToolbox : IToolbox
{
    readonly Dictionary<string, (ToolDefinition Tool, Func<string, CancellationToken, Task<ToolOutcome>> Answer)> tools = new(StringComparer.Ordinal);

    /// <summary>Every call made, in order: the tool and its arguments.</summary>
    public List<(string Tool, string Arguments)> Calls { get; } = [];

    /// <summary>Told each tool as a call to it is made ready (its server read), before anything is sent.</summary>
    public Action<string>? Readying { get; init; }

    /// <summary>Told each tool as a call to it is made.</summary>
    public Action<string>? Making { get; init; }

    public FakeToolbox With(string name, Func<string, ToolOutcome> answer, string schema = """{"type":"object"}""") =>
        With(name, (arguments, _) => Task.FromResult(answer(arguments)), schema);

    /// <summary>A tool that answers when the test says, given the token that stops its call.</summary>
    public FakeToolbox With(string name, Func<string, CancellationToken, Task<ToolOutcome>> answer, string schema = """{"type":"object"}""")
    {
        tools[name] = (new ToolDefinition(name, $"The {name} tool.", schema), answer);
        return this;
    }

    public Task<ToolLookup> FindAsync(string accountId, IReadOnlyCollection<string> names, CancellationToken cancellationToken) =>
        Task.FromResult(new ToolLookup(
            names.Where(tools.ContainsKey).Select(n => tools[n].Tool).ToList(),
            names.Where(n => !tools.ContainsKey(n)).ToList()));

    public Task<ReadyToolCall> ReadyAsync(string accountId, string tool, CancellationToken cancellationToken)
    {
        Readying?.Invoke(tool);
        return Task.FromResult(new ReadyToolCall((argumentsJson, token) =>
        {
            Making?.Invoke(tool);
            Calls.Add((tool, argumentsJson));
            return tools[tool].Answer(argumentsJson, token);
        }));
    }
}
