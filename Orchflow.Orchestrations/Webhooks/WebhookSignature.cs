using System.Security.Cryptography;
using System.Text;

namespace Orchflow.Webhooks;

/// <summary>
/// Standard Webhooks signing (spec v1): the secret is <c>whsec_</c> and base64 of random bytes, and a signature is
/// <c>v1,</c> and base64 of HMAC-SHA256, keyed with the secret's bytes, of <c>{id}.{timestamp}.{body}</c>.
/// </summary>
public static class WebhookSignature
{
    public const string SecretPrefix = "whsec_";

    /// <summary>32 random bytes: the middle of the spec's 24 to 64.</summary>
    const int SecretBytes = 32;

    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretBytes));

    public static string Sign(string secret, string id, long timestamp, string body)
    {
        var key = Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
        try
        {
            return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>The <c>webhook-signature</c> header: one signature per secret, space-separated, as during a rotation.</summary>
    public static string Header(IEnumerable<string> secrets, string id, long timestamp, string body) =>
        string.Join(' ', secrets.Select(s => Sign(s, id, timestamp, body)));
}
