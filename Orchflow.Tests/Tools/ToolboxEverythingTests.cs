using System.Diagnostics;
using System.Text.Json.Nodes;
using Orchflow.Telemetry;
using Orchflow.Tests.Support;
using Orchflow.Tests.Telemetry;
using Orchflow.Tools;

namespace Orchflow.Tests.Tools;

/// <summary>
/// The toolbox against the MCP reference server (npm server-everything over Streamable HTTP), which no one here
/// wrote: its tools are listed at registration, found by their run names, and called live through Orchflow's client.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ToolboxEverythingTests
{
    McpEverything everything = null!;
    ToolHarness harness = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        everything = await McpEverything.StartAsync();
        harness = new ToolHarness();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await harness.DisposeAsync();
        await everything.DisposeAsync();
    }

    [Test]
    public async Task ProbeAsync_ServerEverything_ListsItsToolsWithObjectSchemas()
    {
        var probe = await harness.Servers.ProbeAsync(everything.Url, new Dictionary<string, string>(), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(probe.Problem, Is.Null);
            Assert.That(probe.Tools.Select(t => t.Name), Is.SupersetOf(new[] { "echo", "get-sum" }));
            Assert.That(probe.Truncated, Is.False);
            Assert.That(probe.Tools.Single(t => t.Name == "get-sum").InputSchemaJson, Does.Contain("\"a\"").And.Contains("\"b\""));
            Assert.That(probe.Tools.All(t => JsonNode.Parse(t.InputSchemaJson) is JsonObject), "every schema is an object");
        });
    }

    [Test]
    public async Task FindAsync_BuiltInServerToolsAndUnknownNames_FoundAndUnknownApart()
    {
        var server = await harness.RegisterAsync(everything.Url);

        var lookup = await harness.Toolbox.FindAsync(harness.AccountId,
            ["fetch_url", $"{server.ServerId}/echo", $"{server.ServerId}/no-such-tool", "mcs_0000000000000000000z/echo", "send_email", "echo"],
            CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(lookup.Found.Select(t => t.Name), Is.EqualTo(new[] { "fetch_url", $"{server.ServerId}/echo" }));
            Assert.That(lookup.Found[1].Description, Is.Not.Empty);
            Assert.That(lookup.Found[1].InputSchemaJson, Does.Contain("message"));
            Assert.That(lookup.Unknown, Is.EqualTo(new[] { $"{server.ServerId}/no-such-tool", "mcs_0000000000000000000z/echo", "send_email", "echo" }));
        });
    }

    [Test]
    public async Task FindAsync_AnotherAccountsServer_Unknown()
    {
        var server = await harness.RegisterAsync(everything.Url);

        var lookup = await harness.Toolbox.FindAsync("acc_someoneelse00000000", [$"{server.ServerId}/echo"], CancellationToken.None);

        Assert.That(lookup.Unknown, Is.EqualTo(new[] { $"{server.ServerId}/echo" }));
    }

    [Test]
    public async Task CallAsync_EchoAndGetSum_ServerAnswersLive()
    {
        var server = await harness.RegisterAsync(everything.Url);

        var echo = await harness.CallAsync($"{server.ServerId}/echo", """{"message": "hello from Orchflow"}""");
        var sum = await harness.CallAsync($"{server.ServerId}/get-sum", """{"a": 2, "b": 40}""");

        Assert.Multiple(() =>
        {
            Assert.That(echo.Error, Is.Null);
            Assert.That(echo.Result, Is.EqualTo("Echo: hello from Orchflow"));
            Assert.That(sum.Error, Is.Null);
            Assert.That(sum.Result, Does.Contain("42"));
        });
    }

    [Test]
    public async Task CallAsync_ArgumentsTheServerRefuses_FailedOutcomeNotException()
    {
        var server = await harness.RegisterAsync(everything.Url);

        var outcome = await harness.CallAsync($"{server.ServerId}/get-sum", """{"a": "two"}""");

        Assert.Multiple(() =>
        {
            Assert.That(outcome.IsError, Is.True);
            Assert.That(outcome.Error, Does.Contain(server.ServerId));
        });
    }

    [Test]
    public async Task CallAsync_ManyCallsInParallel_EachAnsweredWithItsOwnArguments()
    {
        var server = await harness.RegisterAsync(everything.Url);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 30)
            .Select(i => harness.CallAsync($"{server.ServerId}/echo", $$"""{"message": "n{{i}}"}""")));

        Assert.That(outcomes.Select(o => o.Result), Is.EqualTo(Enumerable.Range(0, 30).Select(i => $"Echo: n{i}")));
    }

    [Test]
    public async Task CallAsync_Echo_SpanNamesToolServerAndOutcomeButNotArguments()
    {
        var server = await harness.RegisterAsync(everything.Url);
        using var telemetry = new InMemoryTelemetry();

        using (OrchflowTelemetry.InRun("run_tooltelemetry", "T2"))
        {
            await harness.CallAsync($"{server.ServerId}/echo", """{"message": "secret-argument-7781"}""");
            await harness.CallAsync("mcs_0000000000000000000z/echo", "{}");
        }

        var spans = telemetry.Spans.Where(s => s.OperationName == "orchflow.tool.call").ToList();
        Assert.Multiple(() =>
        {
            Assert.That(spans, Has.Count.EqualTo(2));
            Assert.That(spans[0].Kind, Is.EqualTo(ActivityKind.Client));
            Assert.That(spans[0].GetTagItem("orchflow.tool.name"), Is.EqualTo($"{server.ServerId}/echo"));
            Assert.That(spans[0].GetTagItem("orchflow.tool.server_id"), Is.EqualTo(server.ServerId));
            Assert.That(spans[0].GetTagItem("orchflow.tool.outcome"), Is.EqualTo("ok"));
            Assert.That(spans[0].GetTagItem("orchflow.run_id"), Is.EqualTo("run_tooltelemetry"));
            Assert.That(spans[1].GetTagItem("orchflow.tool.outcome"), Is.EqualTo("refused"));
            Assert.That(spans[1].Status, Is.EqualTo(ActivityStatusCode.Error));
            Assert.That(spans.SelectMany(s => s.TagObjects).Select(t => t.Value?.ToString()), Has.None.Contains("secret-argument-7781"));
        });
    }

    [Test]
    public async Task CallAsync_DeletedServer_RefusedSayingSo()
    {
        var server = await harness.RegisterAsync(everything.Url);
        await harness.Store.DeleteAsync(harness.AccountId, server.ServerId, CancellationToken.None);

        var outcome = await harness.CallAsync($"{server.ServerId}/echo", """{"message": "x"}""");

        Assert.That(outcome.Error, Does.Contain("no tool server").And.Contain(server.ServerId));
    }
}
