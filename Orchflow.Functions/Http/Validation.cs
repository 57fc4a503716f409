using Orchflow.Domain;

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
        else if (!PlainText.Is(value))
        {
            Add(field, $"'{field}' must be text: {PlainText.Rule}.");
        }

        return trimmed;
    }

    public ApiResult Problem() => Problems.Validation(errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
}
