using System.Security.Cryptography;

namespace Orchflow.Domain;

/// <summary>Creates the public identifiers of runs, accounts and providers.</summary>
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
        var remaining = (ulong)(End - now).Ticks / TimeSpan.TicksPerMillisecond;
        return "run_" + Encode(remaining, 10) + Random(10);
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
