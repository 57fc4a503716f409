using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;
using Orchflow.Infrastructure.Network;
using Orchflow.Models;

namespace Orchflow.Webhooks;

/// <summary>What one attempt of a delivery came to.</summary>
public enum AttemptOutcome
{
    Delivered,
    Failed,

    /// <summary>The receiver answered 410 Gone: the endpoint is no more, and its webhook is disabled.</summary>
    Gone,
}

/// <summary>One attempt's outcome, the status the receiver answered (none when it did not), and what it asked or what went wrong.</summary>
public sealed record AttemptResult(AttemptOutcome Outcome, int? StatusCode, TimeSpan? RetryAfter, string? Error);

/// <summary>
/// Makes one signed delivery attempt: a POST of the body with the Standard Webhooks headers, on connections that go
/// to the addresses the <see cref="AddressPolicy"/> allows, never following a redirect, within the timeout.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    readonly HttpClient http;
    readonly TimeSpan timeout;
    readonly TimeProvider clock;

    public WebhookSender(IOptions<WebhookOptions> options, AddressPolicy policy, TimeProvider clock)
    {
        this.clock = clock;
        timeout = options.Value.Timeout;
        var handler = new SocketsHttpHandler
        {
            // A redirect would take a signed body to a URL nobody registered.
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = timeout,
            ConnectCallback = policy.Connect(host => new BlockedEndpointException(
                $"The webhook host {host} is a private or local address, which this deployment does not call.")),
        };

        http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("Orchflow-Webhooks/1.0");
    }

    public async Task<AttemptResult> SendAsync(string url, string deliveryId, string body, IReadOnlyList<string> secrets, CancellationToken cancellationToken)
    {
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("webhook-id", deliveryId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", WebhookSignature.Header(secrets, deliveryId, timestamp, body));

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            var status = (int)response.StatusCode;
            return status switch
            {
                >= 200 and < 300 => new AttemptResult(AttemptOutcome.Delivered, status, null, null),
                410 => new AttemptResult(AttemptOutcome.Gone, status, null, "The endpoint answered 410 Gone."),
                >= 300 and < 400 => new AttemptResult(AttemptOutcome.Failed, status, RetryAfter(response),
                    $"The endpoint answered {status} (a redirect); redirects are not followed: register the URL it points to."),
                _ => new AttemptResult(AttemptOutcome.Failed, status, RetryAfter(response), $"The endpoint answered {status}."),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new AttemptResult(AttemptOutcome.Failed, null, null, $"No answer within {timeout.TotalSeconds:0} s.");
        }
        catch (HttpRequestException e) when (e.InnerException is BlockedEndpointException blocked)
        {
            return new AttemptResult(AttemptOutcome.Failed, null, null, blocked.Message);
        }
        catch (HttpRequestException)
        {
            // The same words whatever the socket said (refused, no route, no such name, reset), so that a webhook's
            // deliveries cannot be used to map which hosts and ports the deployment can reach.
            return new AttemptResult(AttemptOutcome.Failed, null, null, "Could not reach the endpoint.");
        }
    }

    TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - clock.GetUtcNow(),
        _ => null,
    };

    public void Dispose() => http.Dispose();
}
