using System.Diagnostics;
using static Orchflow.Telemetry.OrchflowTelemetry;

namespace Orchflow.Telemetry;

/// <summary>
/// One model call as telemetry sees it: a client span from start to answer (its retries included, as events), and the
/// call's duration, tokens or failure cause recorded on the meter when it ends. Holds the provider kind and model name,
/// never the prompt or the answer.
/// </summary>
public sealed class ModelCall : IDisposable
{
    /// <summary>Model names are the user's own text: long ones are cut so one cannot flood a metric's dimensions.</summary>
    const int MaxModelName = 64;

    readonly Activity? span;
    readonly long started = Stopwatch.GetTimestamp();
    readonly TagList tags;
    bool ended;

    ModelCall(string providerKind, string model, string operation)
    {
        model = model.Length > MaxModelName ? model[..MaxModelName] : model;
        tags = new TagList { { Tags.ProviderKind, providerKind }, { Tags.Model, model }, { Tags.ModelOperation, operation } };
        span = StartSpan("orchflow.model.call", ActivityKind.Client);
        foreach (var tag in tags)
        {
            span?.SetTag(tag.Key, tag.Value);
        }
    }

    /// <summary>What a model call is for: planning the run, one agent task, or the final synthesis.</summary>
    public static class Operations
    {
        public const string Plan = "plan";
        public const string Task = "task";
        public const string Synthesis = "synthesis";
    }

    public static ModelCall Start(string providerKind, string model, string operation) => new(providerKind, model, operation);

    /// <summary>
    /// Notes on the span under way (the model call's) that an attempt failed in a way worth retrying, and when the next
    /// one starts. Called by the retry policy, which is the one that knows.
    /// </summary>
    public static void Retrying(int attempt, string cause, TimeSpan delay) =>
        Activity.Current?.AddEvent(new ActivityEvent("orchflow.model.retry", tags: new ActivityTagsCollection
        {
            [Tags.Attempt] = attempt,
            [Tags.FailureCause] = cause,
            ["orchflow.model.retry_delay_ms"] = (long)delay.TotalMilliseconds,
        }));

    /// <summary>How many requests the call took in the end, told to the span under way by the retry policy.</summary>
    public static void Attempted(int attempts) => Activity.Current?.SetTag(Tags.Attempts, attempts);

    public void Succeeded(long inputTokens, long outputTokens)
    {
        if (ended)
        {
            return;
        }

        ended = true;
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        span?.SetTag(Tags.InputTokens, inputTokens);
        span?.SetTag(Tags.OutputTokens, outputTokens);
        span?.SetStatus(ActivityStatusCode.Ok);
        var outcome = tags;
        outcome.Add(Tags.ModelOutcome, "ok");
        ModelCallDuration.Record(seconds, outcome);
        RecordTokens("input", inputTokens);
        RecordTokens("output", outputTokens);
    }

    /// <summary>The call failed: <paramref name="cause"/> is a short word (auth, rate_limited, timeout…), never the provider's text.</summary>
    public void Failed(string cause, int? status)
    {
        if (ended)
        {
            return;
        }

        ended = true;
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        span?.SetTag(Tags.FailureCause, cause);
        if (status is { } s)
        {
            span?.SetTag(Tags.HttpStatus, s);
        }

        span?.SetStatus(ActivityStatusCode.Error, cause);
        var outcome = tags;
        outcome.Add(Tags.ModelOutcome, "failed");
        ModelCallDuration.Record(seconds, outcome);
        var failure = tags;
        failure.Add(Tags.FailureCause, cause);
        ModelCallFailures.Add(1, failure);
    }

    void RecordTokens(string type, long count)
    {
        if (count <= 0)
        {
            return;
        }

        var typed = tags;
        typed.Add(Tags.TokenType, type);
        ModelTokens.Add(count, typed);
    }

    /// <summary>Ends the span; a call neither succeeded nor failed by then was abandoned (cancelled or an unexpected error).</summary>
    public void Dispose()
    {
        if (!ended)
        {
            Failed(FailureCauses.Other, null);
        }

        span?.Dispose();
    }
}

/// <summary>The words a failed model call's cause is told in: few, so a metric split by them stays readable.</summary>
public static class FailureCauses
{
    /// <summary>The provider rejected the key (401, 403).</summary>
    public const string Auth = "auth";

    public const string RateLimited = "rate_limited";
    public const string ServerError = "server_error";
    public const string Timeout = "timeout";
    public const string Unreachable = "unreachable";

    /// <summary>The endpoint resolves to an address this deployment does not call.</summary>
    public const string BlockedEndpoint = "blocked_endpoint";

    public const string NotFound = "not_found";

    /// <summary>The provider answered with a redirect, which is not followed.</summary>
    public const string Redirect = "redirect";

    /// <summary>The answer was longer than Orchflow reads (Orchflow:Models:MaxResponseBytes).</summary>
    public const string TooLarge = "too_large";

    /// <summary>The provider refused the request as malformed or unsupported (400, 422 and other 4xx).</summary>
    public const string Refused = "refused";

    /// <summary>The answer could not be read as a chat completion.</summary>
    public const string Malformed = "malformed";

    public const string EmptyAnswer = "empty_answer";

    public const string Other = "other";
}
