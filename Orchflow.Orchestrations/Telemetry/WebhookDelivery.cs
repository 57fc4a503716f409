using System.Diagnostics;
using static Orchflow.Telemetry.OrchflowTelemetry;

namespace Orchflow.Telemetry;

/// <summary>
/// One webhook delivery attempt: a client span (the HTTP request the sender makes inside it is its child) and, when it
/// ends, <c>orchflow.webhook.deliveries</c> and <c>orchflow.webhook.delivery.duration</c> by outcome. Start it with
/// <see cref="OrchflowTelemetry.StartWebhookDelivery"/>, call <see cref="Delivered"/> or <see cref="Failed"/> once, and
/// dispose it. It holds ids and the event type, never the payload, the endpoint's URL or its signing secret.
/// </summary>
public sealed class WebhookDelivery : IDisposable
{
    readonly Activity? span;
    readonly long started = Stopwatch.GetTimestamp();
    bool ended;

    WebhookDelivery(Activity? span) => this.span = span;

    /// <summary>The outcomes a delivery attempt is counted by.</summary>
    public static class Outcomes
    {
        /// <summary>The endpoint answered 2xx.</summary>
        public const string Delivered = "delivered";

        /// <summary>The endpoint answered, but not 2xx.</summary>
        public const string Rejected = "rejected";

        /// <summary>No answer: the endpoint could not be reached or did not answer in time.</summary>
        public const string Unreachable = "unreachable";
    }

    internal static WebhookDelivery Start(string runId, string endpointId, string eventType, int attempt)
    {
        var span = Source.StartActivity("orchflow.webhook.deliver", ActivityKind.Client);
        span?.SetTag(Tags.RunId, runId);
        span?.SetTag(Tags.WebhookEndpointId, endpointId);
        span?.SetTag(Tags.WebhookEventType, eventType);
        span?.SetTag(Tags.WebhookAttempt, attempt);
        return new WebhookDelivery(span);
    }

    /// <summary>The endpoint answered 2xx.</summary>
    public void Delivered(int status) => End(Outcomes.Delivered, status, error: false);

    /// <summary>
    /// The attempt failed: <paramref name="outcome"/> is one of <see cref="Outcomes"/>; <paramref name="status"/> is the
    /// endpoint's HTTP status when it answered.
    /// </summary>
    public void Failed(string outcome, int? status = null) => End(outcome, status, error: true);

    void End(string outcome, int? status, bool error)
    {
        if (ended)
        {
            return;
        }

        ended = true;
        span?.SetTag(Tags.WebhookOutcome, outcome);
        if (status is { } s)
        {
            span?.SetTag(Tags.HttpStatus, s);
        }

        span?.SetStatus(error ? ActivityStatusCode.Error : ActivityStatusCode.Ok, error ? outcome : null);
        var tags = new TagList { { Tags.WebhookOutcome, outcome } };
        WebhookDeliveries.Add(1, tags);
        WebhookDeliveryDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
    }

    /// <summary>Ends the span; an attempt not ended by then (an exception the sender did not expect) counts as unreachable.</summary>
    public void Dispose()
    {
        if (!ended)
        {
            Failed(Outcomes.Unreachable);
        }

        span?.Dispose();
    }
}
