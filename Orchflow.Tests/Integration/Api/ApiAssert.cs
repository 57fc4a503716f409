using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>Checks every API answer shares: JSON bodies, and RFC 9457 problem details with their stable codes.</summary>
static class ApiAssert
{
    /// <summary>A success with a JSON body; returns the body.</summary>
    public static JsonNode Json(ApiResponse response, HttpStatusCode status)
    {
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(status), response.Text);
            Assert.That(response.ContentType, Is.EqualTo("application/json"), response.Text);
        });
        return response.Json ?? throw new AssertionException("The response has no JSON body: " + response.Text);
    }

    /// <summary>A problem details body with the given status and code, and every member RFC 9457 asks for.</summary>
    public static JsonNode Problem(ApiResponse response, HttpStatusCode status, string code)
    {
        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(status), response.Text);
            Assert.That(response.ContentType, Is.EqualTo("application/problem+json"), response.Text);
        });
        var body = response.Json ?? throw new AssertionException("The problem has no JSON body: " + response.Text);
        Assert.Multiple(() =>
        {
            Assert.That(body["code"]?.GetValue<string>(), Is.EqualTo(code), response.Text);
            Assert.That(body["status"]?.GetValue<int>(), Is.EqualTo((int)status), response.Text);
            Assert.That(body["type"]?.GetValue<string>(), Is.Not.Null.And.Not.Empty, response.Text);
            Assert.That(body["title"]?.GetValue<string>(), Is.Not.Null.And.Not.Empty, response.Text);
            Assert.That(body["detail"]?.GetValue<string>(), Is.Not.Null.And.Not.Empty, response.Text);
        });
        return body;
    }

    /// <summary>A 422 whose <c>errors</c> name the field; returns that field's messages, joined.</summary>
    public static string Invalid(ApiResponse response, string field)
    {
        var body = Problem(response, (HttpStatusCode)422, "validation_failed");
        var errors = body["errors"] as JsonObject ?? throw new AssertionException("A 422 without an errors object: " + response.Text);
        Assert.That(errors.Select(e => e.Key), Does.Contain(field), response.Text);
        var messages = errors[field]!.AsArray().Select(m => m!.GetValue<string>()).ToList();
        Assert.That(messages, Is.Not.Empty.And.All.Not.Empty, response.Text);
        return string.Join(" ", messages);
    }

    public static string Str(this JsonNode node, string name) =>
        node[name]?.GetValue<string>() ?? throw new AssertionException($"'{name}' is missing or null in {node.ToJsonString()}");

    /// <summary>Every task of a run as (task id, state), in the order the run lists them.</summary>
    public static List<(string TaskId, string State)> TaskStates(JsonNode run) =>
        run["subtasks"]!.AsObject().Select(t => (t.Key, t.Value!.Str("state"))).ToList();

    public static string TaskState(JsonNode run, string taskId) => run["subtasks"]![taskId]!.Str("state");
}
