using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orchflow.Abstractions;
using Orchflow.Infrastructure.Queues;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Webhooks;

/// <summary>Wires webhooks: their store, the queue, the outbox the run store writes ahead to, and the dispatcher.</summary>
public static class WebhookServices
{
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration, bool isDevelopment)
    {
        services.AddOptions<WebhookOptions>()
            .Bind(configuration.GetSection(WebhookOptions.Section))
            .PostConfigure(o => o.AllowPrivateTargets ??= isDevelopment)
            .Validate(o =>
            {
                o.Validate();
                return true;
            })
            .ValidateOnStart();
        services.AddSingleton<IWebhookStore, TableWebhookStore>();
        services.AddSingleton<IWebhookQueue, StorageWebhookQueue>();
        services.AddSingleton<WebhookDirectory>();
        services.AddSingleton<IRunLogOutbox, WebhookOutbox>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhookDispatcher>();
        return services;
    }
}
