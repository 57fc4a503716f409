using System.Text;
using System.Text.Json.Nodes;
using Orchflow.Functions.Functions;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>Values for body fields: ones a field accepts, ones of the wrong type or out of bounds, ones its route's rules refuse, and broken JSON.</summary>
public sealed partial class FuzzRequestGenerator
{
    /// <summary>A value the field accepts on its own, so that a duplicated key is the only thing wrong.</summary>
    JsonNode ValidValue(BodyField field, AccountIds owner) => field.Kind switch
    {
        FieldKind.TextList => new JsonArray("company details"),
        FieldKind.AgentList => new JsonArray(new JsonObject { ["name"] = "research" }),
        _ => field.Name switch
        {
            "email" => Context(owner).FreshEmail(),
            "provider" => "openai",
            "provider_id" => owner.ProviderId,
            "endpoint" => "https://llm.example.com/v1",
            _ => "Fine, " + RandomId(4),
        },
    };

    (string Label, JsonNode? Value, bool Remove) WrongType(BodyField field)
    {
        var common = new List<(string, JsonNode?)>
        {
            ("is a number", 42), ("is a negative number", -1), ("is a fraction", 1.5), ("is true", true), ("is false", false),
            ("is an empty array", new JsonArray()), ("is an array of text", new JsonArray("x")), ("is an empty object", new JsonObject()),
            ("is an object", new JsonObject { ["x"] = "y" }), ("is a string", "text"),
        };
        var choices = field.Kind switch
        {
            FieldKind.Text => common.Where(c => c.Item1 != "is a string").Concat([("is empty", ""), ("is whitespace", " \t\n ")]).ToList(),
            FieldKind.Bool => [("is the text 'true'", "true"), ("is 1", 1), ("is 0", 0), ("is 'yes'", "yes"), ("is an array", new JsonArray()), ("is an object", new JsonObject())],
            FieldKind.Int => [("is the text '86400'", "86400"), ("is true", true), ("is a fraction", 1.5), ("is an array", new JsonArray()), ("is an object", new JsonObject()), ("is '1e3'", "1e3")],
            FieldKind.TextList =>
            [
                ("is a string", "x"), ("is a number", 42), ("is an object", new JsonObject()), ("holds a number", new JsonArray(1)),
                ("holds true", new JsonArray(true)), ("holds an array", new JsonArray(new JsonArray())), ("holds an object", new JsonArray(new JsonObject())),
                ("holds null", new JsonArray((JsonNode?)null)), ("holds an empty string", new JsonArray("")), ("holds whitespace", new JsonArray("   ")),
            ],
            _ =>
            [
                ("is a string", "research"), ("is an object", new JsonObject { ["name"] = "research" }), ("holds a number", new JsonArray(42)),
                ("holds a string", new JsonArray("research")), ("holds a name that is a number", new JsonArray(new JsonObject { ["name"] = 42 })),
                ("holds instructions that are a number", new JsonArray(new JsonObject { ["name"] = "research", ["instructions"] = 42 })),
                ("holds null", new JsonArray((JsonNode?)null)), ("holds an object without a name", new JsonArray(new JsonObject())),
                ("holds an empty name", new JsonArray(new JsonObject { ["name"] = "" })),
            ],
        };
        if (field.Required)
        {
            choices.Add(("is null", null));
            choices.Add(("is missing", null));
        }

        var (label, value) = choices[random.Next(choices.Count)];
        return (label, value, label == "is missing");
    }

    (string Label, JsonNode Node)? OverBound(BodyField field)
    {
        string Over(int max) => random.Next(3) switch
        {
            0 => new string('a', max + 1),
            1 => string.Concat(Enumerable.Repeat("é", max + 1)),
            _ => "x" + new string(' ', max - 1) + "y",
        };

        switch (field.Kind)
        {
            case FieldKind.Text when field.MaxLength > 0:
                return ($"is {field.MaxLength + 1} characters, over its {field.MaxLength}", Over(field.MaxLength));
            case FieldKind.TextList when random.Next(2) == 0:
                return ($"has {field.MaxItems + 1} items, over its {field.MaxItems}",
                    new JsonArray(Enumerable.Range(0, field.MaxItems + 1).Select(n => (JsonNode?)JsonValue.Create($"topic {n}")).ToArray()));
            case FieldKind.TextList:
                return ($"has an item of {field.ItemMaxLength + 1} characters", new JsonArray("fine", Over(field.ItemMaxLength)));
            case FieldKind.AgentList:
                return random.Next(3) switch
                {
                    0 => ($"has {field.MaxItems + 1} agents, over its {field.MaxItems}", new JsonArray(Enumerable.Range(0, field.MaxItems + 1)
                        .Select(n => (JsonNode?)new JsonObject { ["name"] = $"agent{n}", ["instructions"] = "Do one thing." }).ToArray())),
                    1 => ("has a name of 65 characters", new JsonArray(new JsonObject { ["name"] = "a" + new string('b', 64), ["instructions"] = "x" })),
                    _ => ("has instructions of 4,001 characters", new JsonArray(new JsonObject { ["name"] = "research", ["instructions"] = Over(4000) })),
                };
            case FieldKind.Int:
                // In turn rather than at random: the int fields are few, and every kind of bad number must be sent.
                var (label, raw) = (intVariant++ % 8) switch
                {
                    0 => ("is one below its range", (field.Min - 1).ToString()),
                    1 => ("is one above its range", (field.Max + 1).ToString()),
                    2 => ("is over 32 bits", "2147483648"),
                    3 => ("is under 32 bits", "-2147483649"),
                    4 => ("is 1e400", "1e400"),
                    5 => ("has 26 digits", "99999999999999999999999999"),
                    6 => ("is 1e309", "1e309"),
                    _ => ("is -0.5", "-0.5"),
                };
                return (label, JsonNode.Parse(raw)!);
            default:
                return null;
        }
    }

    /// <summary>A form field outside the subset of JSON Schema forms keep to (nested, an array, a reference, a huge enum…).</summary>
    (string Label, JsonObject Field) FormFieldOutsideTheSubset() => Pick(
        ("that is an object", new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() }),
        ("that is an array", new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" } }),
        ("that is a reference", new JsonObject { ["$ref"] = "#/$defs/x" }),
        ("of an unknown format", new JsonObject { ["type"] = "string", ["format"] = "ipv6" }),
        ("with a huge enum", new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(Enumerable.Range(0, 500).Select(i => (JsonNode)$"c{i}").ToArray()) }),
        ("with a minimum past its maximum", new JsonObject { ["type"] = "integer", ["minimum"] = 5, ["maximum"] = 1 }));

    /// <summary>A value the route's own rules refuse (unknown enum, bad email, missing answer…), set in the body.</summary>
    string? Semantic(RouteShape shape, JsonObject body)
    {
        switch (shape.Template)
        {
            case "api/v1/auth/register":
                var email = Pick("not-an-email", "a@b", "@example.com", "a@@example.com", "a b@example.com", "<a@example.com>",
                    "Name <a@example.com>", "a@example.com, b@example.com", "a@example.com;b@example.com");
                body["email"] = email;
                return $"'email' is '{email}'";
            case "api/v1/runs":
                switch (random.Next(5))
                {
                    case 0:
                        var (label, agents) = Pick(
                            ("an unknown agent without instructions", new JsonArray(new JsonObject { ["name"] = "hacker" })),
                            ("an agent name in upper case", new JsonArray(new JsonObject { ["name"] = "Research" })),
                            ("an agent name starting with a digit", new JsonArray(new JsonObject { ["name"] = "1abc", ["instructions"] = "x" })),
                            ("an agent name with a space", new JsonArray(new JsonObject { ["name"] = "a b", ["instructions"] = "x" })),
                            ("an agent name with a path", new JsonArray(new JsonObject { ["name"] = "../x", ["instructions"] = "x" })),
                            ("an agent listed twice", new JsonArray(new JsonObject { ["name"] = "research" }, new JsonObject { ["name"] = "research" })));
                        body["agents"] = agents;
                        return "'agents' has " + label;
                    case 1:
                        body["provider_id"] = Pick("", "   ", "\t");
                        return "'provider_id' is blank";
                    case 2:
                        var (asked, field) = FormFieldOutsideTheSubset();
                        field["name"] = Pick("budget", "a b", "1st", "");
                        body["ask_me_about"] = new JsonArray(field);
                        return "'ask_me_about' has a field " + asked;
                    case 3:
                        var (given, property) = FormFieldOutsideTheSubset();
                        body["plan"] = new JsonObject
                        {
                            ["tasks"] = new JsonArray(new JsonObject
                            {
                                ["task_id"] = "T1", ["name"] = "Ask", ["kind"] = "human", ["depends_on"] = new JsonArray(), ["prompt"] = "Tell us.",
                                ["input_schema"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["f"] = property } },
                            }),
                        };
                        return "a given plan's form has a field " + given;
                    default:
                        body["human_timeout_seconds"] = Pick(0, -1, RunsFunctions.MaxTimeoutSeconds + 1);
                        return "'human_timeout_seconds' is out of range";
                }
            case "api/v1/runs/{runId}/tasks/{taskId}/complete":
                var (what, answer) = Pick(
                    ("no output for a human task", new JsonObject()),
                    ("an approval without an output for a human task", new JsonObject { ["approved"] = true }),
                    ("a rejection for a human task", new JsonObject { ["approved"] = false, ["feedback"] = "Redo it." }),
                    ("feedback only for a human task", new JsonObject { ["feedback"] = "Shorter." }),
                    ("approved null for a human task", new JsonObject { ["approved"] = null }),
                    ("input that is not an object", new JsonObject { ["input"] = Pick<JsonNode>("text", 42, new JsonArray(1)) }),
                    ("input with a field no form has", new JsonObject { ["input"] = new JsonObject { ["no_such_field"] = 1 } }),
                    ("input and output together", new JsonObject { ["input"] = new JsonObject(), ["output"] = "Text." }));
                body.Clear();
                foreach (var (k, v) in answer.ToList())
                {
                    answer.Remove(k);
                    body[k] = v;
                }

                return what;
            case "api/v1/providers":
                switch (random.Next(3))
                {
                    case 0:
                        var kind = Pick("OpenAI", "open_ai", "ollama", "azure", "openai,gemini");
                        body["provider"] = kind;
                        return $"'provider' is '{kind}'";
                    case 1:
                        body["provider"] = Pick("azure_openai", "openai_compatible");
                        body.Remove("endpoint");
                        return "'endpoint' is missing for a provider that needs one";
                    default:
                        var endpoint = Pick("ftp://example.com/v1", "https://user:pw@example.com/v1", "/v1", "example.com/v1",
                            "javascript:alert(1)", "file:///etc/passwd", "http://", "gopher://example.com");
                        body["endpoint"] = endpoint;
                        return $"'endpoint' is '{endpoint}'";
                }
            case "api/v1/runs/{runId}/plan/review":
                var (verdict, review) = Pick(
                    ("a rejection without feedback", new JsonObject { ["approved"] = false }),
                    ("a rejection with an edited plan", new JsonObject { ["approved"] = false, ["feedback"] = "x", ["plan"] = new JsonObject { ["tasks"] = new JsonArray() } }),
                    ("an approval with feedback", new JsonObject { ["approved"] = true, ["feedback"] = "Fine." }),
                    ("an edited plan without tasks", new JsonObject { ["approved"] = true, ["plan"] = new JsonObject() }),
                    ("an edited plan with a cycle", new JsonObject
                    {
                        ["approved"] = true,
                        ["plan"] = new JsonObject
                        {
                            ["tasks"] = new JsonArray(
                                new JsonObject { ["task_id"] = "T1", ["name"] = "a", ["kind"] = "agent", ["agent"] = "research", ["depends_on"] = new JsonArray("T2") },
                                new JsonObject { ["task_id"] = "T2", ["name"] = "b", ["kind"] = "agent", ["agent"] = "research", ["depends_on"] = new JsonArray("T1") }),
                        },
                    }));
                body.Clear();
                foreach (var (k, v) in review.ToList())
                {
                    review.Remove(k);
                    body[k] = v;
                }

                return verdict;
            case "api/v1/webhooks":
                if (random.Next(2) == 0)
                {
                    var url = Pick("ftp://hooks.example.com/x", "https://user:pw@hooks.example.com/x", "/relative/hook", "hooks.example.com/x",
                        "javascript:alert(1)", "http://hooks.example.com/x", "file:///etc/passwd", "https://");
                    body["url"] = url;
                    return $"'url' is '{url}'";
                }

                var (which, events) = Pick(
                    ("an unknown event type", new JsonArray("run.exploded")),
                    ("an event type twice", new JsonArray("run.completed", "run.completed")),
                    ("no event type", new JsonArray()),
                    ("an event type in upper case", new JsonArray("RUN.COMPLETED")),
                    ("an event type with a wildcard", new JsonArray("run.*")));
                body["events"] = events;
                return "'events' has " + which;
            case "api/v1/auth/keys":
                body["label"] = Pick("", "   ", "\t", "\n");
                return "'label' is blank";
            case "api/v1/runs/{runId}/budget":
                if (random.Next(2) == 0)
                {
                    body.Remove("max_tokens");
                    return "no limit given";
                }

                var limit = Pick("max_tokens", "max_tool_calls");
                body[limit] = Pick<JsonNode>(0, -1, 1.5, "100", true);
                return $"'{limit}' is {body[limit]!.ToJsonString()}";
            case "api/v1/tool-servers":
                if (random.Next(2) == 0)
                {
                    var url = Pick("ftp://tools.example.com/mcp", "https://user:pw@tools.example.com/mcp", "/mcp", "tools.example.com/mcp",
                        "javascript:alert(1)", "http://tools.example.com/mcp", "file:///etc/passwd", "https://");
                    body["url"] = url;
                    return $"'url' is '{url}'";
                }

                var (flaw, headers) = Pick(
                    ("a header name with a space", new JsonObject { ["Bad Name"] = "x" }),
                    ("a header the transport sets", new JsonObject { ["Mcp-Session-Id"] = "forged" }),
                    ("a header value with a line break", new JsonObject { ["Authorization"] = "Bearer a\r\nX-Injected: 1" }),
                    ("an empty header value", new JsonObject { ["Authorization"] = "" }),
                    ("a header value that is a number", new JsonObject { ["X-Org"] = 42 }),
                    ("a header named twice in two cases", new JsonObject { ["Authorization"] = "a", ["authorization"] = "b" }),
                    ("headers that are an array", (JsonNode)new JsonArray("Authorization: x")));
                body["headers"] = headers;
                return "'headers' has " + flaw;
            default:
                return null;
        }
    }

    /// <summary>The valid body's text broken in one of many ways that no JSON parser may accept as one object.</summary>
    (string Label, byte[] Bytes) Corrupt(string text)
    {
        byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
        if (!text.Contains("\":\"", StringComparison.Ordinal))
        {
            text = "{\"x\":\"a\"," + text[1..];
        }

        var firstString = text.IndexOf("\":\"", StringComparison.Ordinal) + 3;

        byte[] InString(byte[] inject)
        {
            var bytes = Utf8(text);
            var cut = Encoding.UTF8.GetByteCount(text[..firstString]);
            return [.. bytes.AsSpan(0, cut), .. inject, .. bytes.AsSpan(cut)];
        }

        var depth = Pick(40, 64, 1000, 10_000);
        switch (random.Next(30))
        {
            case 0:
                var n = random.Next(0, text.Length);
                return ($"truncated to {n} of {text.Length} characters", Utf8(text[..n]));
            case 1: return ("without its closing brace", Utf8(text[..^1]));
            case 2: return ("with a trailing comma", Utf8(text[..^1] + ",}"));
            case 3: return ("with single quotes", Utf8(text.Replace('"', '\'')));
            case 4: return ("with a block comment", Utf8("/* note */" + text));
            case 5: return ("with a line comment", Utf8("{// note\n" + text[1..]));
            case 6: return ("with unquoted keys", Utf8(System.Text.RegularExpressions.Regex.Replace(text, "\"(\\w+)\":", "$1:")));
            case 7: return ("with NaN", Utf8("{\"x\":NaN," + text[1..]));
            case 8: return ("with Infinity", Utf8("{\"x\":-Infinity," + text[1..]));
            case 9: return ("with trailing garbage", Utf8(text + Pick("x", "}", " {}", "\n{\"a\":1}", ";")));
            case 10: return ("with a leading prefix", Utf8(Pick(")]}',\n", "x", "\uFEFFx") + text));
            case 11:
                var bare = Pick("\"text\"", "42", "true", "false", "null", "[]", "[" + text + "]", "\"" + text.Replace("\"", "\\\"") + "\"");
                return ($"a bare {bare[..Math.Min(bare.Length, 12)]}", Utf8(bare));
            case 12: return ("whitespace only", Utf8(Pick(" ", "\n\t\r ", new string(' ', 4096))));
            case 13: return ("empty", []);
            case 14: return ("in UTF-16 with a BOM", [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(text)]);
            case 15: return ("in UTF-16 without a BOM", Encoding.Unicode.GetBytes(text));
            case 16: return ("in UTF-32", Encoding.UTF32.GetBytes(text));
            case 17: return ("with a raw control character in a string", InString([0x01]));
            case 18: return ("with a raw line break in a string", InString("\n"u8.ToArray()));
            case 19: return ("with a raw NUL byte in a string", InString([0x00]));
            case 20:
                var (what, bytes) = Pick<(string, byte[])>(
                    ("C3 28", [0xC3, 0x28]), ("FF", [0xFF]), ("an encoded surrogate ED A0 80", [0xED, 0xA0, 0x80]),
                    ("an overlong slash C0 AF", [0xC0, 0xAF]), ("a cut sequence E2 82", [0xE2, 0x82]),
                    ("a five-byte sequence", [0xF8, 0x88, 0x80, 0x80, 0x80]), ("a code point past U+10FFFF", [0xF4, 0x90, 0x80, 0x80]));
                return ($"with invalid UTF-8 ({what}) in a string", InString(bytes));
            case 21: return ($"nested {depth} deep in a field", Utf8("{\"x\":" + new string('[', depth) + new string(']', depth) + "," + text[1..]));
            case 22:
                var nested = string.Concat(Enumerable.Repeat("{\"x\":", depth)) + "1" + new string('}', depth);
                return ($"nested {depth} objects deep", Utf8("{\"deep\":" + nested + "," + text[1..]));
            case 23:
                // Not a lone backslash: placed before a string that starts with an escape, it would make a valid "\\".
                var escape = Pick("\\x41", "\\u12", "\\uZZZZ", "\\q", "\\ ");
                return ($"with the bad escape {escape}", Utf8(text[..firstString] + escape + text[firstString..]));
            case 24: return ("with an unterminated string", Utf8(text[..(firstString + 1)]));
            case 25: return ("with a key and no value", Utf8("{\"x\":," + text[1..]));
            case 26: return ("with two commas", Utf8("{\"x\":1,," + text[1..]));
            case 27:
                var number = Pick("01", "1.", ".5", "+1", "0x10", "1e", "--1", "1_000");
                return ($"with the number {number}", Utf8("{\"x\":" + number + "," + text[1..]));
            case 28: return ("with a key that is not a string", Utf8("{1:2," + text[1..]));
            default: return ("an array of members", Utf8("[" + text[1..^1] + "]"));
        }
    }
}
