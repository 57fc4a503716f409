namespace Orchflow.Models;

/// <summary>
/// The model providers a user can register, and how each is reached. Every kind speaks the OpenAI chat-completions
/// protocol: Azure OpenAI under its deployment path, Gemini and Anthropic through their OpenAI-compatible endpoints.
/// </summary>
public static class ProviderKinds
{
    public const string OpenAI = "openai";
    public const string AzureOpenAI = "azure_openai";
    public const string Gemini = "gemini";
    public const string Anthropic = "anthropic";
    public const string OpenAICompatible = "openai_compatible";

    public static readonly IReadOnlyList<string> All = [OpenAI, AzureOpenAI, Gemini, Anthropic, OpenAICompatible];

    public static bool IsKnown(string kind) => All.Contains(kind);

    /// <summary>Kinds with no public default address: the user says where their resource or server is.</summary>
    public static bool NeedsEndpoint(string kind) => kind is AzureOpenAI or OpenAICompatible;

    /// <summary>Where a kind is reached when the user gives no endpoint.</summary>
    public static Uri? DefaultEndpoint(string kind) => kind switch
    {
        OpenAI => new Uri("https://api.openai.com/v1"),
        Gemini => new Uri("https://generativelanguage.googleapis.com/v1beta/openai"),
        Anthropic => new Uri("https://api.anthropic.com/v1"),
        _ => null,
    };

    /// <summary>
    /// Whether the planner asks for its JSON schema as the response format. Anthropic's compatible endpoint ignores
    /// it, so its plans rely on the prompt alone; any other provider that refuses the format is asked again without it.
    /// </summary>
    public static bool SupportsJsonSchema(string kind) => kind != Anthropic;
}
