using System.ClientModel;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Telemetry;

namespace Orchflow.Models;

/// <summary>
/// Runs one model call with a timeout per request and retries what a retry can fix: 429 and 5xx answers (waiting as
/// long as Retry-After asks), 408, timeouts and unreachable hosts. Everything else fails at once with a
/// <see cref="ModelProviderException"/> that tells the user what to fix: a rejected key is never retried.
/// </summary>
public sealed class ModelCallPolicy(IOptions<ModelOptions> options, TimeProvider clock, ILogger<ModelCallPolicy> log)
{
    /// <summary>How much of a provider's own error message is quoted to the user.</summary>
    const int MaxQuotedMessage = 300;

    public async Task<T> RunAsync<T>(ModelTarget target, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        for (var attempt = 1; ; attempt++)
        {
            Failure failure;
            using (var timeout = new CancellationTokenSource(settings.RequestTimeout, clock))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
            {
                try
                {
                    var result = await call(linked.Token);
                    ModelCall.Attempted(attempt);
                    return result;
                }
                catch (Exception e) when (Chain(e).OfType<AnswerTooLargeException>().FirstOrDefault() is { } large)
                {
                    failure = Failure.Permanent(TooLarge(target, large.Limit), FailureCauses.TooLarge);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = Failure.Transient($"did not answer within {settings.RequestTimeoutSeconds} s", FailureCauses.Timeout);
                }
                catch (ClientResultException e)
                {
                    failure = Classify(target, e);
                }
                catch (HttpRequestException e)
                {
                    failure = Unreached(target, e);
                }
                catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or KeyNotFoundException or ArgumentException)
                {
                    // The client could not read what came back: not an answer in the chat-completions protocol.
                    failure = Failure.Permanent(Malformed(target, e.GetType().Name), FailureCauses.Malformed);
                }
            }

            if (!failure.IsTransient)
            {
                ModelCall.Attempted(attempt);
                throw new ModelProviderException(failure.Message, failure.Status, failure.Cause);
            }

            var delay = failure.RetryAfter ?? Backoff(settings, attempt);
            if (attempt >= settings.MaxAttempts || delay > settings.MaxRetryDelay)
            {
                ModelCall.Attempted(attempt);
                throw new ModelProviderException(GaveUp(target, failure, attempt, delay, settings), failure.Status, failure.Cause);
            }

            ModelCall.Retrying(attempt, failure.Cause, delay);

            log.LogWarning(
                "Model call to {Target} {Failure} (attempt {Attempt} of {MaxAttempts}); retrying in {DelayMs} ms",
                target.ToString(), failure.Message, attempt, settings.MaxAttempts, (int)delay.TotalMilliseconds);
            await Task.Delay(delay, clock, cancellationToken);
        }
    }

    /// <summary>Exponential backoff with jitter: about base × 2^(attempt-1), between 75% and 125% of it, capped.</summary>
    static TimeSpan Backoff(ModelOptions settings, int attempt)
    {
        var exponential = settings.RetryBaseDelayMs * Math.Pow(2, attempt - 1);
        var jittered = exponential * (0.75 + (Random.Shared.NextDouble() * 0.5));
        return TimeSpan.FromMilliseconds(Math.Min(jittered, settings.MaxRetryDelay.TotalMilliseconds));
    }

    static Failure Classify(ModelTarget target, ClientResultException e)
    {
        var status = e.Status;
        var response = e.GetRawResponse();
        return status switch
        {
            // No answer at all: the client wraps the connection's own failure.
            0 => e.InnerException is HttpRequestException connection
                ? Unreached(target, connection)
                : Failure.Transient("could not be reached", FailureCauses.Unreachable),
            >= 300 and < 400 => Failure.Permanent(Redirected(target, status, response), FailureCauses.Redirect, status),
            401 or 403 => Failure.Permanent(
                $"The provider rejected the key (HTTP {status} from {target.Kind}). Register the provider again with a valid key " +
                "that may use this model and start a new run with its provider_id: a retry of this run would send the same key.", FailureCauses.Auth, status),
            408 => Failure.Transient("timed out (HTTP 408)", FailureCauses.Timeout, status),
            429 => Failure.Transient("is rate limited (HTTP 429)", FailureCauses.RateLimited, status, RetryAfter(response)),
            >= 500 => Failure.Transient($"failed (HTTP {status})", FailureCauses.ServerError, status, RetryAfter(response)),
            404 => Failure.Permanent(
                $"The provider answered HTTP 404 for model '{target.Model}' at {target.Endpoint.GetLeftPart(UriPartial.Path)}: " +
                (ProviderKinds.NeedsEndpoint(target.Kind)
                    ? "check the endpoint (OpenAI-compatible servers usually end in /v1) and the model or deployment name."
                    : "check the model name.") +
                Quote(target, response), FailureCauses.NotFound, status),
            _ => Failure.Permanent(
                $"The provider refused the request (HTTP {status}){Quote(target, response)} Check the model name and that it supports chat completions.",
                FailureCauses.Refused, status),
        };
    }

    static Failure Unreached(ModelTarget target, HttpRequestException e)
    {
        if (e.InnerException is BlockedEndpointException blocked)
        {
            return Failure.Permanent(blocked.Message, FailureCauses.BlockedEndpoint);
        }

        // One sentence whatever the socket said (refused, reset, no such name, not HTTP, a failed TLS handshake): told
        // apart, they would let a registered endpoint map which hosts and ports the deployment reaches.
        return Failure.Transient($"could not be reached at {target.Endpoint.GetLeftPart(UriPartial.Authority)}", FailureCauses.Unreachable);
    }

    static string TooLarge(ModelTarget target, long limit) =>
        $"The {target.Kind} provider's answer was longer than {limit / (1024.0 * 1024):0.#} MiB (as sent or once decompressed), the most " +
        $"Orchflow reads of one answer ({ModelOptions.Section}:MaxResponseBytes), so the call was stopped. Check that " +
        $"{target.Endpoint.GetLeftPart(UriPartial.Path)} is a chat-completions endpoint that keeps to the output token limit it is sent.";

    static string Redirected(ModelTarget target, int status, System.ClientModel.Primitives.PipelineResponse? response)
    {
        var to = response is not null && response.Headers.TryGetValue("Location", out var location) &&
                 Uri.TryCreate(target.Endpoint, location, out var where) && where.IsAbsoluteUri
            ? " to " + where.GetLeftPart(UriPartial.Authority)
            : "";
        return $"The provider answered HTTP {status}, a redirect{to}. Orchflow follows no redirects for model calls (the key would go " +
               "along to an address nobody checked): register the provider with the endpoint that answers itself.";
    }

    /// <summary>The exception and every inner one, outermost first.</summary>
    static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            yield return x;
        }
    }

    static string Malformed(ModelTarget target, string detail) =>
        $"The provider's answer could not be read as a chat completion ({detail}). Check that {target.Endpoint.GetLeftPart(UriPartial.Path)} " +
        "speaks the OpenAI chat-completions protocol.";

    /// <summary>Where a failed run is continued: its completed tasks are kept, so a transient failure costs nothing twice.</summary>
    const string RetryRoute = "POST /api/v1/runs/{run_id}/retry";

    static string GaveUp(ModelTarget target, Failure failure, int attempts, TimeSpan delay, ModelOptions settings)
    {
        var what = $"The {target.Kind} provider {failure.Message}";
        if (delay > settings.MaxRetryDelay && attempts < settings.MaxAttempts)
        {
            return $"{what} and asked to wait {delay.TotalSeconds:0} s, longer than Orchflow waits ({settings.MaxRetryDelaySeconds} s). " +
                   $"Retry the run later ({RetryRoute}), or raise the quota of your model account.";
        }

        var advice = failure.Status == 429
            ? $"Raise the quota or rate limit of your model account, or retry the run later ({RetryRoute})."
            : $"Retry the run later ({RetryRoute}): it goes on from where it stopped; if it keeps failing, check the provider's status and the endpoint.";
        return $"{what} on all {attempts} attempts. {advice}";
    }

    /// <summary>How long the provider asked to wait: OpenAI's retry-after-ms, or Retry-After in seconds or as a date.</summary>
    static TimeSpan? RetryAfter(System.ClientModel.Primitives.PipelineResponse? response)
    {
        if (response is null)
        {
            return null;
        }

        if (response.Headers.TryGetValue("retry-after-ms", out var ms) &&
            double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds >= 0)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        if (!response.Headers.TryGetValue("Retry-After", out var value) || string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? TimeSpan.FromTicks(Math.Max(0, (at - DateTimeOffset.UtcNow).Ticks))
            : null;
    }

    /// <summary>The provider's own error message, short, with the key blanked out should the provider echo it.</summary>
    static string Quote(ModelTarget target, System.ClientModel.Primitives.PipelineResponse? response)
    {
        var message = ErrorMessage(response);
        if (string.IsNullOrWhiteSpace(message))
        {
            return ".";
        }

        message = message.Replace(target.ApiKey, "[key]", StringComparison.Ordinal).ReplaceLineEndings(" ").Trim();
        if (message.Length > MaxQuotedMessage)
        {
            message = message[..MaxQuotedMessage] + "…";
        }

        return $": \"{message}\".";
    }

    static string? ErrorMessage(System.ClientModel.Primitives.PipelineResponse? response)
    {
        try
        {
            if (response?.Content is not { } content || content.ToMemory().Length == 0)
            {
                return null;
            }

            using var document = JsonDocument.Parse(content.ToMemory());
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() > 0)
            {
                root = root[0];
            }

            return root.ValueKind == JsonValueKind.Object &&
                   root.TryGetProperty("error", out var error) &&
                   error.ValueKind == JsonValueKind.Object &&
                   error.TryGetProperty("message", out var message) &&
                   message.ValueKind == JsonValueKind.String
                ? message.GetString()
                : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>A failed attempt: whether a retry may fix it, what to tell the user, and its cause in one word for telemetry.</summary>
    readonly record struct Failure(bool IsTransient, string Message, string Cause, int? Status, TimeSpan? RetryAfter)
    {
        public static Failure Transient(string message, string cause, int? status = null, TimeSpan? retryAfter = null) =>
            new(true, message, cause, status, retryAfter);

        public static Failure Permanent(string message, string cause, int? status = null) => new(false, message, cause, status, null);
    }
}
