using Microsoft.AspNetCore.Http;

namespace Orchflow.Functions.Http;

/// <summary>Query string parameters, checked against their bounds; a bad one is a 422 naming it.</summary>
public static class Query
{
    public static long Long(HttpRequest req, string name, long fallback, long min, long max, Validation validation)
    {
        var raw = req.Query[name];
        if (raw.Count == 0 || string.IsNullOrEmpty(raw[0]))
        {
            return fallback;
        }

        // Digits only: number parsing would also take signs, spaces and trailing NUL characters ("5%00").
        var text = raw[0]!;
        var value = raw.Count == 1 && text.Length <= 18 && text.All(char.IsAsciiDigit) ? long.Parse(text) : -1;
        if (value < min || value > max)
        {
            validation.Add(name, $"'{name}' must be a whole number from {min} to {max}.");
            return fallback;
        }

        return value;
    }

    /// <summary>A true/false parameter, spelt <c>true</c> or <c>false</c>.</summary>
    public static bool Flag(HttpRequest req, string name, bool fallback, Validation validation)
    {
        var raw = req.Query[name];
        if (raw.Count == 0 || string.IsNullOrEmpty(raw[0]))
        {
            return fallback;
        }

        switch (raw.Count == 1 ? raw[0] : null)
        {
            case "true":
                return true;
            case "false":
                return false;
            default:
                validation.Add(name, $"'{name}' must be true or false.");
                return fallback;
        }
    }
}
