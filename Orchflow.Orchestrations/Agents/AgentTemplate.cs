namespace Orchflow.Agents;

/// <summary>A named agent: what it is for and the system prompt it runs under.</summary>
public sealed record AgentTemplate(string Name, string Description, string SystemPrompt);
