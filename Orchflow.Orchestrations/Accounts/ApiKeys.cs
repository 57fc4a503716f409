using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Orchflow.Infrastructure;

namespace Orchflow.Accounts;

/// <summary>Issues API keys and computes the keyed hash that is all Orchflow stores of them.</summary>
public sealed class ApiKeys(IOptions<SecurityOptions> options)
{
    public const string Prefix = "orch_";
    const int KeyBytes = 32;

    public static string NewKey() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(KeyBytes));

    /// <summary>True for something shaped like a key Orchflow issues, checked before any lookup.</summary>
    public static bool IsWellFormed(string? key) =>
        key is { Length: >= 40 and <= 100 } && key.StartsWith(Prefix, StringComparison.Ordinal) &&
        key.AsSpan(Prefix.Length).IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") < 0;

    /// <summary>What a listing shows of a key: its last four characters.</summary>
    public static string Hint(string key) => "…" + key[^4..];

    public string Hash(string key) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(options.Value.PepperBytes(), Encoding.ASCII.GetBytes(key)));

    static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
