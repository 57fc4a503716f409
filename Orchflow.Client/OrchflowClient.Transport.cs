using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Orchflow.Client;

// How every call is sent: the key, an Idempotency-Key on each POST kept across its own retries, the waits a 429 or 503
// asks for, and error answers turned into OrchflowProblemException.
public sealed partial class OrchflowClient
{
    async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var key = method == HttpMethod.Post ? idempotencyKey ?? options.NewIdempotencyKey() : null;
        for (var attempt = 0; ; attempt++)
        {
            using var request = Request(method, path, key);
            if (body is not null)
            {
                request.Content = JsonContent.Create(body, body.GetType(), options: OrchflowJson.Options);
            }

            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            }
            catch (HttpRequestException) when (attempt < options.MaxRetries)
            {
                await Task.Delay(Backoff(attempt), cancellationToken);
                continue;
            }

            using (response)
            {
                if (response.IsSuccessStatusCode)
                {
                    if (typeof(T) == typeof(NoContent))
                    {
                        return default!;
                    }

                    return await response.Content.ReadFromJsonAsync<T>(OrchflowJson.Options, cancellationToken)
                           ?? throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode} without a body.");
                }

                var problem = await ProblemAsync(response, cancellationToken);
                if (attempt < options.MaxRetries && Retryable(problem))
                {
                    await Task.Delay(RetryDelay(response, attempt), cancellationToken);
                    continue;
                }

                throw problem;
            }
        }
    }

    HttpRequestMessage Request(HttpMethod method, string path, string? idempotencyKey)
    {
        var request = new HttpRequestMessage(method, new Uri(BaseAddress, path));
        if (ApiKey is not null)
        {
            request.Headers.Add("X-API-Key", ApiKey);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return request;
    }

    /// <summary>Whether trying again can succeed with nothing changed: the server asked to wait, or was not reachable.</summary>
    static bool Retryable(OrchflowProblemException problem) =>
        problem.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway
            or HttpStatusCode.GatewayTimeout
        || (problem.StatusCode == HttpStatusCode.Conflict && problem.Code == "idempotency_in_progress");

    TimeSpan RetryDelay(HttpResponseMessage response, int attempt)
    {
        var asked = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => Backoff(attempt),
        };
        return asked < TimeSpan.Zero ? TimeSpan.Zero : asked > options.MaxRetryDelay ? options.MaxRetryDelay : asked;
    }

    TimeSpan Backoff(int attempt)
    {
        var delay = options.FirstRetryDelay * Math.Pow(2, Math.Min(attempt, 10));
        return delay > options.MaxRetryDelay ? options.MaxRetryDelay : delay;
    }

    /// <summary>The error answer as an exception: its problem details, or ones made from the status when it sent none.</summary>
    static async Task<OrchflowProblemException> ProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        ProblemDetails? problem = null;
        if (response.Content.Headers.ContentType?.MediaType is "application/problem+json" or "application/json")
        {
            try
            {
                problem = JsonSerializer.Deserialize<ProblemDetails>(text, OrchflowJson.Options);
            }
            catch (JsonException)
            {
                // Not problem details after all (a proxy's page): described from the status below.
            }
        }

        var status = (int)response.StatusCode;
        problem ??= new ProblemDetails("about:blank", response.ReasonPhrase ?? "HTTP " + status, status,
            text.Length > 500 ? text[..500] : text, "http_" + status.ToString(CultureInfo.InvariantCulture), null);
        return new OrchflowProblemException(response.StatusCode, problem);
    }
}
