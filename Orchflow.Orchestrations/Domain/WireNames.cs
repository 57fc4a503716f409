using System.Text.Json;

namespace Orchflow.Domain;

/// <summary>Converts enum members to and from the snake_case names used on the wire and in storage.</summary>
public static class WireNames
{
    public static string Of<TEnum>(TEnum value) where TEnum : struct, Enum =>
        JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    public static TEnum Parse<TEnum>(string wire) where TEnum : struct, Enum
    {
        foreach (var value in Enum.GetValues<TEnum>())
        {
            if (string.Equals(Of(value), wire, StringComparison.Ordinal))
            {
                return value;
            }
        }

        throw new FormatException($"'{wire}' is not a {typeof(TEnum).Name}.");
    }
}
