using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Orchflow.Client;

/// <summary>
/// Verifies a webhook delivery as the Standard Webhooks spec (v1) says, for receivers: the signature over
/// <c>{webhook-id}.{webhook-timestamp}.{body}</c> keyed with the secret, any one of several during a rotation, and a
/// timestamp within five minutes of now.
/// </summary>
public static class StandardWebhook
{
    /// <summary>How far a delivery's timestamp may be from now, either way.</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    const string SecretPrefix = "whsec_";

    /// <summary>
    /// Throws <see cref="WebhookVerificationException"/> unless <paramref name="body"/> (the raw request body, as
    /// received) with these headers was signed with <paramref name="secret"/> (<c>whsec_…</c>) within the tolerance.
    /// </summary>
    public static void Verify(string secret, string? webhookId, string? webhookTimestamp, string? webhookSignature, string body,
        DateTimeOffset? now = null)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(body);
        if (string.IsNullOrEmpty(webhookId) || string.IsNullOrEmpty(webhookTimestamp) || string.IsNullOrEmpty(webhookSignature))
        {
            throw new WebhookVerificationException("Missing required headers (webhook-id, webhook-timestamp, webhook-signature).");
        }

        if (!long.TryParse(webhookTimestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            throw new WebhookVerificationException("Invalid signature headers: webhook-timestamp is not a number of seconds.");
        }

        var sent = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799));
        var current = now ?? DateTimeOffset.UtcNow;
        if (sent < current - Tolerance)
        {
            throw new WebhookVerificationException("Message timestamp too old.");
        }

        if (sent > current + Tolerance)
        {
            throw new WebhookVerificationException("Message timestamp too new.");
        }

        var expected = Sign(Key(secret), webhookId, webhookTimestamp, body);
        foreach (var candidate in webhookSignature.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var comma = candidate.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0 || candidate[..comma] != "v1")
            {
                continue;
            }

            byte[] given;
            try
            {
                given = Convert.FromBase64String(candidate[(comma + 1)..]);
            }
            catch (FormatException)
            {
                continue;
            }

            if (CryptographicOperations.FixedTimeEquals(given, expected))
            {
                return;
            }
        }

        throw new WebhookVerificationException("No matching signature found.");
    }

    /// <summary>Verifies with the headers as a receiver has them (names in any case).</summary>
    public static void Verify(string secret, IReadOnlyDictionary<string, string> headers, string body, DateTimeOffset? now = null)
    {
        ArgumentNullException.ThrowIfNull(headers);
        string? Header(string name) => headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
        Verify(secret, Header("webhook-id"), Header("webhook-timestamp"), Header("webhook-signature"), body, now);
    }

    /// <summary>The <c>webhook-signature</c> value for a delivery: what a sender writes, and what tests sign with.</summary>
    public static string Signature(string secret, string webhookId, string webhookTimestamp, string body) =>
        "v1," + Convert.ToBase64String(Sign(Key(secret), webhookId, webhookTimestamp, body));

    static byte[] Key(string secret)
    {
        var encoded = secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret;
        try
        {
            return Convert.FromBase64String(encoded);
        }
        catch (FormatException)
        {
            throw new ArgumentException("The secret is not whsec_ followed by base64.", nameof(secret));
        }
    }

    static byte[] Sign(byte[] key, string webhookId, string webhookTimestamp, string body) =>
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{webhookId}.{webhookTimestamp}.{body}"));
}

/// <summary>A webhook delivery that does not verify: forged, altered, replayed late, or signed with another secret.</summary>
public sealed class WebhookVerificationException(string message) : Exception(message);
