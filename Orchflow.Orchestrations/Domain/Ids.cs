using System.Security.Cryptography;

namespace Orchflow.Domain;

/// <summary>Creates the public identifiers of runs, accounts, API keys, providers, webhooks and their deliveries, and tool servers.</summary>
public static class Ids
{
    const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lower case
    static readonly DateTimeOffset End = new(2200, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// A run id that sorts newest first: the time left until 2200 in milliseconds, then randomness.
    /// Runs are listed by one range query in row-key order, so this order is the listing order.
    /// </summary>
    public static string NewRunId(DateTimeOffset now)
    {
        return "run_" + NewestFirst(now) + Random(10);
    }

    /// <summary>When a run id was made (to the millisecond), read back from its first characters; null for a malformed id.</summary>
    public static DateTimeOffset? RunCreatedAt(string runId)
    {
        if (!LooksLike("run", runId) || runId.Length < 14)
        {
            return null;
        }

        ulong remaining = 0;
        foreach (var c in runId.AsSpan(4, 10))
        {
            remaining = (remaining << 5) | (uint)Alphabet.IndexOf(c);
        }

        return End - TimeSpan.FromMilliseconds(remaining);
    }

    public static string NewAccountId() => "acc_" + Random(20);

    public static string NewProviderId() => "prv_" + Random(16);

    public static string NewWebhookId() => "whk_" + Random(20);

    /// <summary>An API key's id, which lists and revokes it (never the key itself).</summary>
    public static string NewKeyId() => "key_" + Random(20);

    /// <summary>
    /// The id given to a key issued before keys had ids, derived from its keyed hash so every instance that meets it
    /// gives it the same one.
    /// </summary>
    public static string AdoptedKeyId(string apiKeyHash)
    {
        var hash = SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(apiKeyHash));
        return "key_" + Encode(BitConverter.ToUInt64(hash, 0), 10) + Encode(BitConverter.ToUInt64(hash, 8), 10);
    }

    /// <summary>An MCP tool server's id, which runs name its tools by (<c>mcs_…/search</c>).</summary>
    public static string NewToolServerId() => "mcs_" + Random(20);

    /// <summary>
    /// The id of one event's delivery to one webhook: a hash of the three, so that handling the same event twice
    /// (a message seen again after a crash) finds the delivery already made instead of making another.
    /// </summary>
    public static string DeliveryId(string webhookId, string runId, long sequence)
    {
        var hash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{webhookId}\n{runId}\n{sequence}"));
        return "dlv_" + Encode(BitConverter.ToUInt64(hash, 0), 13) + Encode(BitConverter.ToUInt64(hash, 8), 13);
    }

    /// <summary>A key prefix that sorts later times first: the milliseconds left until 2200, as run ids begin.</summary>
    public static string NewestFirst(DateTimeOffset at) => Encode((ulong)(End - at).Ticks / TimeSpan.TicksPerMillisecond, 10);

    public static bool LooksLike(string prefix, string? id) =>
        id is { Length: > 4 and <= 64 } && id.StartsWith(prefix + "_", StringComparison.Ordinal) &&
        id.AsSpan(prefix.Length + 1).IndexOfAnyExcept(Alphabet) < 0;

    static string Encode(ulong value, int width)
    {
        Span<char> chars = stackalloc char[width];
        for (var i = width - 1; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }

        return new string(chars);
    }

    static string Random(int length)
    {
        Span<char> chars = stackalloc char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        }

        return new string(chars);
    }
}
