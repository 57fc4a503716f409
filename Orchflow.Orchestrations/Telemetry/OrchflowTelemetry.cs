using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using Orchflow.Domain;

namespace Orchflow.Telemetry;

/// <summary>
/// Orchflow's own traces and metrics: the <see cref="ActivitySource"/> and <see cref="Meter"/> named <c>Orchflow</c>
/// and every instrument on them. Whoever records a value does it through here, so names, units and attributes stay one
/// set. Attributes carry ids, kinds, counts and outcomes only: never a prompt, an output, a human's answer or a key.
/// </summary>
public static class OrchflowTelemetry
{
    /// <summary>The name of the activity source and of the meter, which an exporter subscribes to.</summary>
    public const string Name = "Orchflow";

    static readonly string Version =
        typeof(OrchflowTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static readonly ActivitySource Source = new(Name, Version);

    public static readonly Meter Meter = new(Name, Version);

    /// <summary>Seconds, for calls that take from a fraction of a second to a few minutes.</summary>
    static readonly IReadOnlyList<double> CallSeconds = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    /// <summary>Seconds, for what a person or a whole run takes: from seconds to days.</summary>
    static readonly IReadOnlyList<double> HumanSeconds = [1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200, 604800];

    public static readonly Counter<long> RunsStarted = Meter.CreateCounter<long>(
        "orchflow.runs.started", "{run}", "Runs accepted and queued.");

    public static readonly Counter<long> RunsEnded = Meter.CreateCounter<long>(
        "orchflow.runs.ended", "{run}", "Runs that reached a terminal status, by orchflow.run.outcome.");

    public static readonly Histogram<double> RunDuration = Meter.CreateHistogram(
        "orchflow.run.duration", "s", "From a run's start to its terminal status, by orchflow.run.outcome.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = HumanSeconds });

    public static readonly Histogram<double> HumanWaitDuration = Meter.CreateHistogram(
        "orchflow.human.wait.duration", "s", "From a task entering waiting_human to the answer that landed.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = HumanSeconds });

    public static readonly Histogram<double> ModelCallDuration = Meter.CreateHistogram(
        "orchflow.model.call.duration", "s", "One model call, its retries included, by provider kind, model, operation and outcome.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CallSeconds });

    public static readonly Counter<long> ModelTokens = Meter.CreateCounter<long>(
        "orchflow.model.tokens", "{token}", "Tokens the provider reported, by provider kind, model and orchflow.token.type (input or output).");

    public static readonly Counter<long> ModelCallFailures = Meter.CreateCounter<long>(
        "orchflow.model.call.failures", "{call}", "Model calls that failed, by provider kind, model and orchflow.failure.cause.");

    public static readonly Counter<long> RateLimitedRequests = Meter.CreateCounter<long>(
        "orchflow.http.rate_limited", "{request}", "Requests refused with 429, by orchflow.rate_limit.policy.");

    public static readonly Counter<long> WebhookDeliveries = Meter.CreateCounter<long>(
        "orchflow.webhook.deliveries", "{delivery}", "Webhook delivery attempts, by orchflow.webhook.outcome.");

    public static readonly Histogram<double> WebhookDeliveryDuration = Meter.CreateHistogram(
        "orchflow.webhook.delivery.duration", "s", "One webhook delivery attempt, by orchflow.webhook.outcome.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CallSeconds });

    public static readonly UpDownCounter<long> OpenStreams = Meter.CreateUpDownCounter<long>(
        "orchflow.sse.open_streams", "{stream}", "Server-Sent Event streams of run events open on this instance.");

    /// <summary>
    /// Names the run (and task) the work under way belongs to, for every span started below it in this async flow, and
    /// tags the span already current (the Durable Task activity's) with them too.
    /// </summary>
    public static IDisposable InRun(string runId, string? taskId = null)
    {
        var current = Activity.Current;
        current?.SetTag(Tags.RunId, runId);
        if (taskId is not null)
        {
            current?.SetTag(Tags.TaskId, taskId);
        }

        return RunScope.Enter(runId, taskId);
    }

    /// <summary>Starts a span of Orchflow's, tagged with the run and task under way; null when nobody listens.</summary>
    public static Activity? StartSpan(string name, ActivityKind kind = ActivityKind.Internal)
    {
        var activity = Source.StartActivity(name, kind);
        if (activity is not null && RunScope.Current is { } scope)
        {
            activity.SetTag(Tags.RunId, scope.RunId);
            if (scope.TaskId is not null)
            {
                activity.SetTag(Tags.TaskId, scope.TaskId);
            }
        }

        return activity;
    }

    /// <summary>Records a run that reached its terminal status, with how long it took from its start.</summary>
    public static void RunEnded(string outcome, TimeSpan? duration)
    {
        var tags = new TagList { { Tags.RunOutcome, outcome } };
        RunsEnded.Add(1, tags);
        if (duration is { } d && d >= TimeSpan.Zero)
        {
            RunDuration.Record(d.TotalSeconds, tags);
        }
    }

    /// <summary>
    /// Records a human's answer that landed at <paramref name="answeredAt"/>: how long the task had waited, what waited
    /// (a human task, or an agent's draft) and the verdict.
    /// </summary>
    public static void HumanAnswered(TaskRecord task, bool accepted, DateTimeOffset answeredAt)
    {
        // Tasks that started waiting before the projection kept the time: a human task's start is when it began waiting.
        var since = task.WaitingSince ?? (task.Kind == TaskKind.Human ? task.StartedAt : null);
        if (since is not { } start || answeredAt < start)
        {
            return;
        }

        HumanWaitDuration.Record((answeredAt - start).TotalSeconds, new TagList
        {
            { Tags.TaskKind, task.Kind.ToWire() },
            { Tags.HumanDecision, accepted ? "accepted" : "rejected" },
        });
    }

    public static void RateLimited(string policy) => RateLimitedRequests.Add(1, new TagList { { Tags.RateLimitPolicy, policy } });

    /// <summary>Counts a Server-Sent Event stream as open until the returned handle is disposed.</summary>
    public static IDisposable StreamOpened()
    {
        OpenStreams.Add(1);
        return new StreamHandle();
    }

    /// <summary>Starts one webhook delivery attempt; see <see cref="WebhookDelivery"/> for how to finish it.</summary>
    public static WebhookDelivery StartWebhookDelivery(string runId, string endpointId, string eventType, int attempt) =>
        WebhookDelivery.Start(runId, endpointId, eventType, attempt);

    /// <summary>The attribute names Orchflow's spans and metrics use.</summary>
    public static class Tags
    {
        public const string RunId = "orchflow.run_id";
        public const string TaskId = "orchflow.task_id";
        public const string RunOutcome = "orchflow.run.outcome";
        public const string TaskKind = "orchflow.task.kind";
        public const string HumanDecision = "orchflow.human.decision";
        public const string ProviderKind = "orchflow.provider.kind";
        public const string Model = "orchflow.model";
        public const string ModelOperation = "orchflow.model.operation";
        public const string ModelOutcome = "orchflow.model.outcome";
        public const string Attempts = "orchflow.model.attempts";
        public const string Attempt = "orchflow.model.attempt";
        public const string InputTokens = "orchflow.model.input_tokens";
        public const string OutputTokens = "orchflow.model.output_tokens";
        public const string TokenType = "orchflow.token.type";
        public const string FailureCause = "orchflow.failure.cause";
        public const string HttpStatus = "http.response.status_code";
        public const string PlanAttempt = "orchflow.plan.attempt";
        public const string PlanValid = "orchflow.plan.valid";
        public const string PlanErrorCount = "orchflow.plan.error_count";
        public const string PlanOutcome = "orchflow.plan.outcome";
        public const string PlanTaskCount = "orchflow.plan.task_count";
        public const string RateLimitPolicy = "orchflow.rate_limit.policy";
        public const string WebhookEndpointId = "orchflow.webhook.endpoint_id";
        public const string WebhookEventType = "orchflow.webhook.event_type";
        public const string WebhookAttempt = "orchflow.webhook.attempt";
        public const string WebhookOutcome = "orchflow.webhook.outcome";
        public const string ToolName = "orchflow.tool.name";
        public const string ToolServerId = "orchflow.tool.server_id";
        public const string ToolOutcome = "orchflow.tool.outcome";
    }

    sealed class StreamHandle : IDisposable
    {
        int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
            {
                OpenStreams.Add(-1);
            }
        }
    }

    /// <summary>The run and task the current async flow works for.</summary>
    sealed record RunScope(string RunId, string? TaskId) : IDisposable
    {
        static readonly AsyncLocal<RunScope?> Ambient = new();

        RunScope? previous;

        public static RunScope? Current => Ambient.Value;

        public static RunScope Enter(string runId, string? taskId)
        {
            var scope = new RunScope(runId, taskId) { previous = Ambient.Value };
            Ambient.Value = scope;
            return scope;
        }

        public void Dispose() => Ambient.Value = previous;
    }
}
