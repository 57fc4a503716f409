namespace Orchflow.Domain;

/// <summary>
/// Text as people write it. Control characters and unpaired UTF-16 surrogates are valid in JSON strings but are never
/// meant, and storage and model APIs refuse or mangle them, so whatever a person or client sends is held to this.
/// </summary>
public static class PlainText
{
    public const string Rule = "no NUL or other control characters except tab and line breaks, and no unpaired surrogates";

    public static bool Is(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c) || (char.IsControl(c) && c is not ('\t' or '\n' or '\r')))
            {
                return false;
            }
        }

        return true;
    }
}
