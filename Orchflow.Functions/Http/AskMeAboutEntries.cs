using System.Text.Json;
using System.Text.Json.Nodes;
using Orchflow.Domain;
using Orchflow.Functions.Functions;

namespace Orchflow.Functions.Http;

/// <summary>
/// A run's <c>ask_me_about</c> as sent: plain topics (text) and field objects (<c>{"name", "title"?, "type", …,
/// "required"?}</c>) side by side, read into the form fields they become, every problem under <c>ask_me_about[i]…</c>.
/// </summary>
public static class AskMeAboutEntries
{
    public const int MaxTopicLength = 200;

    const string Field = "ask_me_about";

    /// <summary>The fields in the order given (a plain topic given twice counts once), or an empty list with the problems added to <paramref name="v"/>.</summary>
    public static IReadOnlyList<AskField> Read(Validation v, IReadOnlyList<JsonNode?>? entries)
    {
        if (entries is null)
        {
            return [];
        }

        if (entries.Count > RunsFunctions.MaxTopics)
        {
            v.Add(Field, $"At most {RunsFunctions.MaxTopics} items may be given in '{Field}'.");
            return [];
        }

        // Object entries name their fields; plain topics are named after them, around the names already taken.
        var problems = new List<(string Field, string Message)>();
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var objects = new Dictionary<int, AskField>();
        foreach (var (entry, i) in entries.Select((e, i) => (e, i)))
        {
            if (entry is JsonObject item && Object(item, $"{Field}[{i}]", problems) is { } field)
            {
                if (taken.Add(field.Name))
                {
                    objects[i] = field;
                }
                else
                {
                    problems.Add(($"{Field}[{i}].name", $"'{field.Name}' names another field of '{Field}' too; each needs its own name."));
                }
            }
        }

        var fields = new List<AskField>();
        foreach (var (entry, i) in entries.Select((e, i) => (e, i)))
        {
            var at = $"{Field}[{i}]";
            if (objects.TryGetValue(i, out var field))
            {
                fields.Add(field);
            }
            else if (entry is null || entry.GetValueKind() == JsonValueKind.String)
            {
                var topic = v.Text(at, entry?.GetValue<string>(), MaxTopicLength, required: true);
                if (topic is { Length: > 0 } && !fields.Any(f => f.Plain && f.Topic.Equals(topic, StringComparison.OrdinalIgnoreCase)))
                {
                    fields.Add(AskFields.Plain(topic, taken));
                }
            }
            else if (entry is not JsonObject)
            {
                problems.Add((at, $"'{at}' must be a topic (text) or a field object: {{\"name\": \"budget_usd\", \"title\": \"Monthly budget\", \"type\": \"integer\", …}}."));
            }
        }

        foreach (var (at, message) in problems)
        {
            v.Add(at, message);
        }

        return v.IsValid ? fields : [];
    }

    /// <summary>A field object: its name and whether it is required, and the rest a field of the form subset.</summary>
    static AskField? Object(JsonObject entry, string at, List<(string Field, string Message)> problems)
    {
        var before = problems.Count;
        string? name = null;
        if (entry["name"] is JsonValue n && n.TryGetValue<string>(out var given))
        {
            if (InputSchemas.IsName(given))
            {
                name = given;
            }
            else
            {
                problems.Add(($"{at}.name", InputSchemas.NameRule(given)));
            }
        }
        else
        {
            problems.Add(($"{at}.name", $"'{at}.name' is required: the field's name in the answer (\"budget_usd\")."));
        }

        var required = true;
        if (entry["required"] is { } r)
        {
            if (r.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
            {
                required = r.GetValue<bool>();
            }
            else
            {
                problems.Add(($"{at}.required", "'required' must be true or false."));
            }
        }

        var property = InputSchemas.ReadProperty(entry, at, problems, "name", "required");
        return problems.Count > before || property is null || name is null
            ? null
            : new AskField(name, property["title"]?.GetValue<string>() ?? name, property.ToJsonString(), required, Plain: false);
    }

    /// <summary>The entries as a run shows them: plain topics as text, field objects as given (with <c>required</c> said).</summary>
    public static IReadOnlyList<JsonNode> View(RunDefinition definition) =>
        AskFields.Of(definition).Select(f =>
        {
            if (f.Plain)
            {
                return (JsonNode)JsonValue.Create(f.Topic);
            }

            var entry = new JsonObject { ["name"] = f.Name };
            foreach (var (key, value) in JsonNode.Parse(f.Property)!.AsObject())
            {
                entry[key] = value?.DeepClone();
            }

            entry["required"] = f.Required;
            return entry;
        }).ToList();
}
