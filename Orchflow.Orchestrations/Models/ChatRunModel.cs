using System.ClientModel;
using Azure.AI.OpenAI;
using Microsoft.Extensions.AI;
using OpenAI;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Planning;
using Orchflow.Prompts;
using Orchflow.Telemetry;

namespace Orchflow.Models;

/// <summary>
/// A run's model on a real provider: the prompts from <see cref="PromptBuilder"/> sent as one chat completion each,
/// through <see cref="IChatClient"/>, with the token usage the provider reports. Plans are asked for in the plan's
/// JSON schema where the provider supports response formats, and by the prompt alone where it does not. Every call
/// asks for at most <paramref name="maxOutputTokens"/> tokens.
/// </summary>
public sealed partial class ChatRunModel(IChatClient chat, ModelTarget target, ModelCallPolicy policy, int maxOutputTokens) : IRunModel
{
    static readonly ChatResponseFormat PlanFormat = ChatResponseFormat.ForJsonSchema(PlanSchema.Schema, PlanSchema.Name, "An Orchflow task graph.");

    public string Name => target.Name;

    /// <summary>Builds the chat client for a target: Azure OpenAI by deployment, every other kind by its OpenAI-compatible endpoint.</summary>
    public static IChatClient CreateChatClient(ModelTarget target, HttpClient http, TimeSpan requestTimeout)
    {
        var credential = new ApiKeyCredential(target.ApiKey);
        var transport = new System.ClientModel.Primitives.HttpClientPipelineTransport(http);

        // Retries are ModelCallPolicy's, which knows which failures a retry can fix and tells the user about the rest.
        var noRetry = new System.ClientModel.Primitives.ClientRetryPolicy(maxRetries: 0);
        if (target.Kind == ProviderKinds.AzureOpenAI)
        {
            var azure = new AzureOpenAIClient(target.Endpoint, credential, new AzureOpenAIClientOptions
            {
                Transport = transport,
                RetryPolicy = noRetry,
                NetworkTimeout = requestTimeout,
            });
            return azure.GetChatClient(target.Model).AsIChatClient();
        }

        var client = new OpenAI.Chat.ChatClient(target.Model, credential, new OpenAIClientOptions
        {
            Endpoint = target.Endpoint,
            Transport = transport,
            RetryPolicy = noRetry,
            NetworkTimeout = requestTimeout,
        });
        return client.AsIChatClient();
    }

    public async Task<ModelReply<string>> PlanAsync(PlanningRequest request, CancellationToken cancellationToken)
    {
        var messages = PromptBuilder.Plan(request);
        if (!ProviderKinds.SupportsJsonSchema(target.Kind))
        {
            return await CompleteAsync(ModelCall.Operations.Plan, messages, null, cancellationToken);
        }

        try
        {
            return await CompleteAsync(ModelCall.Operations.Plan, messages, new ChatOptions { ResponseFormat = PlanFormat }, cancellationToken);
        }
        catch (ModelProviderException e) when (e.Status is 400 or 422)
        {
            // Some compatible servers refuse structured output; the prompt asks for the same JSON on its own.
            return await CompleteAsync(ModelCall.Operations.Plan, messages, null, cancellationToken);
        }
    }

    public Task<ModelReply<string>> RunTaskAsync(AgentTaskRequest request, CancellationToken cancellationToken) =>
        CompleteAsync(ModelCall.Operations.Task, PromptBuilder.Task(request), null, cancellationToken, request.Output);

    public Task<ModelReply<string>> SynthesizeAsync(SynthesisRequest request, CancellationToken cancellationToken) =>
        CompleteAsync(ModelCall.Operations.Synthesis, PromptBuilder.Synthesis(request), null, cancellationToken, request.Output);

    async Task<ModelReply<string>> CompleteAsync(
        string operation, IReadOnlyList<PromptMessage> prompt, ChatOptions? options, CancellationToken cancellationToken, ITextSink? output = null)
    {
        using var call = ModelCall.Start(target.Kind, target.Model, operation);
        var messages = prompt.Select(m => new ChatMessage(Role(m.Role), m.Content)).ToList();
        ChatResponse response;
        try
        {
            response = await RespondAsync(messages, options, output, cancellationToken);
        }
        catch (ModelProviderException e)
        {
            call.Failed(e.Cause, e.Status);
            throw;
        }

        var text = response.Text;
        if (string.IsNullOrWhiteSpace(text))
        {
            call.Failed(FailureCauses.EmptyAnswer, null);
            throw new ModelProviderException(
                $"The {target.Kind} provider answered with no text (finish reason: {response.FinishReason?.Value ?? "none"}). " +
                "Check that the model writes chat completions, and its output token limit.", cause: FailureCauses.EmptyAnswer);
        }

        var usage = new TokenUsage(response.Usage?.InputTokenCount ?? 0, response.Usage?.OutputTokenCount ?? 0);
        call.Succeeded(usage.InputTokens, usage.OutputTokens);
        return new ModelReply<string>(text, usage);
    }

    /// <summary>
    /// One chat completion, retried by the policy. With somewhere for the text to go, it is streamed and handed on as it
    /// arrives; a retry starts the text again.
    /// </summary>
    Task<ChatResponse> RespondAsync(List<ChatMessage> messages, ChatOptions? options, ITextSink? output, CancellationToken cancellationToken)
    {
        options ??= new ChatOptions();
        options.MaxOutputTokens = maxOutputTokens;
        if (output is null)
        {
            return policy.RunAsync(target, ct => chat.GetResponseAsync(messages, options, ct), cancellationToken);
        }

        var attempts = 0;
        return policy.RunAsync(target, async ct =>
        {
            if (attempts++ > 0)
            {
                output.Restart();
            }

            var answer = new StreamedAnswer();
            await foreach (var update in chat.GetStreamingResponseAsync(messages, options, ct))
            {
                if (update.Text is { Length: > 0 } text)
                {
                    output.Append(text);
                }

                answer.Add(update);
            }

            return answer.ToResponse();
        }, cancellationToken);
    }

    static ChatRole Role(PromptRole role) => role switch
    {
        PromptRole.System => ChatRole.System,
        PromptRole.Assistant => ChatRole.Assistant,
        _ => ChatRole.User,
    };
}
