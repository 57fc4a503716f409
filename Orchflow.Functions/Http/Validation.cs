namespace Orchflow.Functions.Http;

/// <summary>Collects field errors for one request and turns them into a 422.</summary>
public sealed class Validation
{
    readonly Dictionary<string, List<string>> errors = [];

    public bool IsValid => errors.Count == 0;

    public Validation Add(string field, string message)
    {
        if (!errors.TryGetValue(field, out var list))
        {
            errors[field] = list = [];
        }

        list.Add(message);
        return this;
    }

    /// <summary>Checks a required or optional text field's length; returns the trimmed text.</summary>
    public string? Text(string field, string? value, int max, bool required, int min = 1)
    {
        if (value is null)
        {
            if (required)
            {
                Add(field, $"'{field}' is required.");
            }

            return null;
        }

        var trimmed = value.Trim();
        if (trimmed.Length < min)
        {
            Add(field, $"'{field}' must not be empty.");
        }
        else if (value.Length > max)
        {
            Add(field, $"'{field}' must be at most {max} characters (got {value.Length}).");
        }
        else if (!IsPlainText(value))
        {
            Add(field, $"'{field}' must be text: no NUL or other control characters except tab and line breaks, and no unpaired surrogates.");
        }

        return trimmed;
    }

    /// <summary>
    /// Text as people write it. Control characters and unpaired UTF-16 surrogates are valid in JSON strings but are
    /// never meant, and storage and model APIs refuse or mangle them, so they are refused here instead.
    /// </summary>
    static bool IsPlainText(string value)
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

    public ApiResult Problem() => Problems.Validation(errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
}
