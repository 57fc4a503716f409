using System.Text;
using System.Text.Json.Nodes;

namespace Orchflow.Domain;

/// <summary>
/// An entry of a run's <c>ask_me_about</c> as the form field it becomes: a plain topic is a required string field
/// named from the topic, titled with it; an object entry is the field it describes. <paramref name="Property"/> is the
/// field's schema as JSON, <paramref name="Topic"/> what the planner and the plan's prompts call it.
/// </summary>
public sealed record AskField(string Name, string Topic, string Property, bool Required = true, bool Plain = true)
{
    public FormField ToFormField() => new(Name, JsonNode.Parse(Property)!.AsObject(), Required);
}

/// <summary>The fields a run's ask_me_about topics become.</summary>
public static class AskFields
{
    /// <summary>A plain topic as a required string field, its name unlike any in <paramref name="taken"/> (which it joins).</summary>
    public static AskField Plain(string topic, ISet<string> taken)
    {
        var name = NameOf(topic);
        var unique = name;
        for (var n = 2; !taken.Add(unique); n++)
        {
            var suffix = "_" + n;
            unique = name[..Math.Min(name.Length, InputSchemas.MaxNameLength - suffix.Length)] + suffix;
        }

        var property = new JsonObject { ["type"] = "string", ["title"] = topic[..Math.Min(topic.Length, InputSchemas.MaxTitleLength)], ["minLength"] = 1 };
        return new AskField(unique, topic, property.ToJsonString());
    }

    /// <summary>The run's fields: as the client gave them, or (a run started before object entries) one per plain topic.</summary>
    public static IReadOnlyList<AskField> Of(RunDefinition definition)
    {
        if (definition.AskFields is { } given)
        {
            return given;
        }

        var taken = new HashSet<string>(StringComparer.Ordinal);
        return definition.AskMeAbout.Select(topic => Plain(topic, taken)).ToList();
    }

    /// <summary>
    /// A topic's field name in snake_case: lower-case letters and digits of any script, every other run of characters
    /// one '_'; "field" when nothing is left, and '_' first when it would start with a digit.
    /// </summary>
    public static string NameOf(string topic)
    {
        var name = new StringBuilder();
        foreach (var c in topic.Trim())
        {
            if (char.IsLetterOrDigit(c))
            {
                name.Append(char.ToLowerInvariant(c));
            }
            else if (name.Length > 0 && name[^1] != '_')
            {
                name.Append('_');
            }
        }

        var text = name.ToString().Trim('_');
        text = text.Length == 0 ? "field" : char.IsDigit(text[0]) ? "_" + text : text;
        return text.Length <= InputSchemas.MaxNameLength ? text : text[..InputSchemas.MaxNameLength].TrimEnd('_');
    }
}
