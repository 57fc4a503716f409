using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Functions.Functions;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>
/// The other side of every bound: a body with each field at its largest allowed size, in the characters that take the
/// most room once stored (non-ASCII, characters JSON escapes, astral code points), is accepted and read back whole.
/// A 5xx here means a request the contract allows fails in storage.
/// </summary>
[TestFixture]
public sealed class BoundaryTests : HostedTests
{
    /// <summary>Text of exactly <paramref name="units"/> UTF-16 units made of one kind of character.</summary>
    static string Text(string kind, int units) => kind switch
    {
        "ascii" => new string('a', units),
        "escaped" => string.Concat(Enumerable.Repeat("<\"&\\", units / 4 + 1))[..units],
        "accented" => new string('é', units),
        "astral" => string.Concat(Enumerable.Repeat("💥", units / 2)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    static readonly string[] Kinds = ["ascii", "escaped", "accented", "astral"];

    /// <summary>
    /// JSON with text as plain UTF-8, escaping only what JSON requires: .NET's encoders escape every astral character as
    /// two \uXXXX, which would push a body at the field bounds over the 256 KiB body limit.
    /// </summary>
    static string Utf8Json(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.Select(p => Utf8Json(JsonValue.Create(p.Key)) + ":" + Utf8Json(p.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Utf8Json)) + "]",
        JsonValue v when v.TryGetValue(out string? text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"",
        null => "null",
        _ => node.ToJsonString(),
    };

    static IEnumerable<TestCaseData> LargestRuns()
    {
        foreach (var kind in Kinds)
        {
            yield return new TestCaseData(kind, "task").SetName($"StartRun_TaskOf{RunsFunctions.MaxTaskLength}Units_{kind}_Accepted202AndReadBackWhole");
            yield return new TestCaseData(kind, "agents").SetName($"StartRun_{RunsFunctions.MaxAgents}AgentsWithLongestInstructions_{kind}_Accepted202AndReadBackWhole");
            yield return new TestCaseData(kind, "everything").SetName($"StartRun_EveryFieldAtItsBound_{kind}_Accepted202AndReadBackWhole");
        }
    }

    [TestCaseSource(nameof(LargestRuns))]
    public async Task StartRun_FieldsAtTheirBounds(string kind, string which)
    {
        using var client = await RegisterAsync();
        var body = new JsonObject { ["task"] = which == "agents" ? "Research competitors." : Text(kind, RunsFunctions.MaxTaskLength) };
        if (which != "task")
        {
            body["agents"] = new JsonArray(Enumerable.Range(0, RunsFunctions.MaxAgents)
                .Select(i => (JsonNode?)new JsonObject { ["name"] = $"agent{i}-" + new string('x', 64 - 6 - i.ToString().Length), ["instructions"] = Text(kind, 4000) })
                .ToArray());
        }

        if (which == "everything")
        {
            body["ask_me_about"] = new JsonArray(Enumerable.Range(0, RunsFunctions.MaxTopics).Select(i => (JsonNode?)(i + Text(kind, 198))).ToArray());
            body["human_gates"] = new JsonArray(Enumerable.Range(0, RunsFunctions.MaxTopics).Select(i => (JsonNode?)(i + Text(kind, 98))).ToArray());
            body["human_timeout_seconds"] = RunsFunctions.MaxTimeoutSeconds;
            body["require_approval"] = true;
        }

        var response = await client.SendRawAsync(HttpMethod.Post, "runs", Utf8Json(body));

        var started = ApiAssert.Json(response, HttpStatusCode.Accepted);
        var run = await client.GetRunAsync(started.Str("run_id"));
        Assert.Multiple(() =>
        {
            Assert.That(run.Str("task"), Is.EqualTo(body["task"]!.GetValue<string>()));
            if (which != "task")
            {
                Assert.That(run["agents"]!.AsArray().Select(a => a!["instructions"]?.GetValue<string>()),
                    Is.EqualTo(body["agents"]!.AsArray().Select(a => a!["instructions"]!.GetValue<string>())));
            }
        });
    }

    [TestCaseSource(nameof(Kinds))]
    public async Task Register_NameAndEmailAtTheirBounds_Created(string kind)
    {
        var domain = $"{Guid.NewGuid():N}.{new string('b', 60)}.{new string('c', 60)}.example.com";
        var email = new string('a', 254 - 1 - domain.Length) + "@" + domain;
        Assert.That(email, Has.Length.EqualTo(254));

        var response = await Anonymous.SendAsync(HttpMethod.Post, "auth/register", new { name = Text(kind, 100), email });

        var account = ApiAssert.Json(response, HttpStatusCode.Created);
        Assert.That(account.Str("name"), Is.EqualTo(Text(kind, 100)));
    }

    [TestCaseSource(nameof(Kinds))]
    public async Task CreateProvider_EveryFieldAtItsBound_Created(string kind)
    {
        using var client = await RegisterAsync();
        var endpoint = "https://llm.example.com/" + new string('v', 500 - "https://llm.example.com/".Length);

        var response = await client.SendAsync(HttpMethod.Post, "providers", new
        {
            provider = "openai_compatible", api_key = Text(kind, 1000), label = Text(kind, 100), model = Text(kind, 200), endpoint,
        });

        var provider = ApiAssert.Json(response, HttpStatusCode.Created);
        Assert.Multiple(() =>
        {
            Assert.That(provider.Str("label"), Is.EqualTo(Text(kind, 100)));
            Assert.That(provider.Str("model"), Is.EqualTo(Text(kind, 200)));
        });
    }
}
