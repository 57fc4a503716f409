using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchflow.Webhooks;

/// <summary>
/// What travels on the webhook queue: ids and sequence numbers, never a body or a secret. A dispatch names events
/// a commit logged; a delivery names one attempt of one delivery.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(DispatchMessage), "dispatch")]
[JsonDerivedType(typeof(DeliverMessage), "deliver")]
public abstract record WebhookMessage
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The message, or null when the text is not one (it is then dropped, not retried for ever).</summary>
    public static WebhookMessage? Parse(string text)
    {
        try
        {
            return JsonSerializer.Deserialize<WebhookMessage>(text, Json);
        }
        catch (JsonException)
        {
            return null;
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }
}

/// <summary>The events <paramref name="From"/> to <paramref name="To"/> of a run were (or were about to be) logged.</summary>
public sealed record DispatchMessage(string Account, string Run, long From, long To) : WebhookMessage;

/// <summary>Make attempt <paramref name="Attempt"/> of the delivery keyed <paramref name="Delivery"/> of a webhook.</summary>
public sealed record DeliverMessage(string Account, string Webhook, string Delivery, int Attempt) : WebhookMessage;
