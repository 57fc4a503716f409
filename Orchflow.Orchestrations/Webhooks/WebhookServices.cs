using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orchflow.Abstractions;
using Orchflow.Infrastructure.Queues;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Webhooks;

/// <summary>Wires webhooks: their store, the queue, the outbox the run store writes ahead to, and the dispatcher.</summary>
public static class WebhookServices
{
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<WebhookOptions, WebhookOptionsValidation>(configuration.GetSection(WebhookOptions.Section))
            .PostConfigure(o => o.Queue = configuration[WebhookOptions.QueueSetting] ?? WebhookOptions.DefaultQueue);
        services.AddSingleton<IWebhookStore, TableWebhookStore>();
        services.AddSingleton<IWebhookQueue, StorageWebhookQueue>();
        services.AddSingleton<WebhookDirectory>();
        services.AddSingleton<IRunLogOutbox, WebhookOutbox>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhookDispatcher>();
        return services;
    }
}
