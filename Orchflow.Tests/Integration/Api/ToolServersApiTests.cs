using System.Net;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// Registering, reading, refreshing and deleting MCP tool servers over real HTTP (docs/api.md, "Tool servers and built-in tools"): the MCP
/// reference server's tools listed; header values sent to the server and shown nowhere; every bad field named; hostile
/// servers refused with a 422 naming <c>url</c> and saying what they answered, never a 5xx; the per-account cap.
/// </summary>
[TestFixture]
public sealed class ToolServersApiTests : HostedTests
{
    const string Token = "Bearer api-test-token-5fd1";

    McpEverything everything = null!;

    protected override async Task BeforeHostStartsAsync() => everything = await McpEverything.StartAsync();

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__Tools__ConnectTimeoutMs"] = "1500",
    };

    [OneTimeTearDown]
    public async Task StopServerAsync() => await everything.DisposeAsync();

    static Task<ApiResponse> CreateAsync(OrchflowClient client, object body) => client.SendAsync(HttpMethod.Post, "tool-servers", body);

    [Test]
    public async Task CreateToolServer_ServerEverything_201WithItsToolsAndHeaderNamesOnly()
    {
        using var client = await RegisterAsync();

        var response = await CreateAsync(client, new { url = everything.Url, label = "Everything", headers = new Dictionary<string, string> { ["Authorization"] = Token } });

        var created = ApiAssert.Json(response, HttpStatusCode.Created);
        var tools = created["tools"]!.AsArray();
        Assert.Multiple(() =>
        {
            Assert.That(created.Str("server_id"), Does.Match("^mcs_[0-9a-z]{20}$"));
            Assert.That(created.Str("url"), Is.EqualTo(everything.Url));
            Assert.That(created.Str("label"), Is.EqualTo("Everything"));
            Assert.That(created["header_names"]!.AsArray().Select(n => n!.GetValue<string>()), Is.EqualTo(new[] { "Authorization" }));
            Assert.That(tools.Select(t => t!.Str("name")), Is.SupersetOf(new[] { "echo", "get-sum" }));
            Assert.That(tools.Single(t => t!.Str("name") == "get-sum")!["input_schema"]!["properties"]!["a"], Is.Not.Null);
            Assert.That(created["tools_truncated"]!.GetValue<bool>(), Is.False);
            Assert.That(created.Str("refreshed_at"), Is.EqualTo(created.Str("created_at")));
            Assert.That(response.Text, Does.Not.Contain("api-test-token"));
            Assert.That(response.Header("Cache-Control"), Does.Contain("no-store"));
            Assert.That(response.Location, Does.EndWith("/api/v1/tool-servers/" + created.Str("server_id")));
        });
    }

    [Test]
    public async Task ToolServer_ReadListRefreshDelete_EachAnswersAndNoneShowsTheHeaderValue()
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        using var client = await RegisterAsync();
        var serverId = ApiAssert.Json(await CreateAsync(client, new { url = server.Url, headers = new Dictionary<string, string> { ["X-Api-Key"] = Token } }),
            HttpStatusCode.Created).Str("server_id");

        var read = await client.SendAsync(HttpMethod.Get, $"tool-servers/{serverId}");
        var list = await client.SendAsync(HttpMethod.Get, "tool-servers");
        var refreshed = await client.SendAsync(HttpMethod.Post, $"tool-servers/{serverId}/refresh");
        var deleted = await client.SendAsync(HttpMethod.Delete, $"tool-servers/{serverId}");
        var gone = await client.SendAsync(HttpMethod.Get, $"tool-servers/{serverId}");

        Assert.Multiple(() =>
        {
            Assert.That(ApiAssert.Json(read, HttpStatusCode.OK).Str("label"), Is.EqualTo("127.0.0.1"), "the host names a server without a label");
            Assert.That(ApiAssert.Json(list, HttpStatusCode.OK)["tool_servers"]!.AsArray().Select(s => s!.Str("server_id")), Is.EqualTo(new[] { serverId }));
            Assert.That(DateTimeOffset.Parse(ApiAssert.Json(refreshed, HttpStatusCode.OK).Str("refreshed_at")),
                Is.GreaterThan(DateTimeOffset.Parse(refreshed.Json!.Str("created_at"))));
            Assert.That(deleted.Status, Is.EqualTo(HttpStatusCode.NoContent));
            ApiAssert.Problem(gone, HttpStatusCode.NotFound, "not_found");
            Assert.That(new[] { read, list, refreshed }.Select(r => r.Text), Has.None.Contains("api-test-token"));
            Assert.That(server.Requests.Where(r => r.Method == "POST").Select(r => r.Header("X-Api-Key")), Is.All.EqualTo(Token));
            Assert.That(server.Methods.Count(m => m == "tools/list"), Is.EqualTo(2), "listed at registration and at refresh");
        });
    }

    [TestCase("""{"label": "no url"}""", "url", "'url' is required")]
    [TestCase("""{"url": "ftp://tools.example.com/mcp"}""", "url", "absolute https URL")]
    [TestCase("""{"url": "https://user:pw@tools.example.com/mcp"}""", "url", "send credentials in 'headers' instead")]
    [TestCase("""{"url": "http://tools.example.com/mcp"}""", "url", "must use https")]
    [TestCase("""{"url": "https://tools.example.com/mcp", "label": ""}""", "label", "must not be empty")]
    [TestCase("""{"url": "https://tools.example.com/mcp", "headers": {"Bad Name": "x"}}""", "headers", "is not one")]
    [TestCase("""{"url": "https://tools.example.com/mcp", "headers": {"Mcp-Session-Id": "forged"}}""", "headers", "set by Orchflow's MCP client")]
    [TestCase("""{"url": "https://tools.example.com/mcp", "headers": {"Authorization": "Bearer a\r\nX: 1"}}""", "headers.Authorization", "printable ASCII")]
    [TestCase("""{"url": "https://tools.example.com/mcp", "headers": {"Authorization": "a", "authorization": "b"}}""", "headers.authorization", "twice")]
    [TestCase("""{"url": "https://tools.example.com/mcp", "headers": {"X-Org": 42}}""", "headers.X-Org", "has the wrong type")]
    [TestCase("""{"url": "https://tools.example.com/mcp", "headers": ["Authorization: x"]}""", "headers", "has the wrong type")]
    public async Task CreateToolServer_BadField_422NamingIt(string body, string field, string expected)
    {
        using var client = await RegisterAsync();

        var message = ApiAssert.Invalid(await client.SendRawAsync(HttpMethod.Post, "tool-servers", body), field);

        Assert.That(message, Does.Contain(expected));
    }

    [TestCase("down", "could not be reached")]
    [TestCase("garbage", "its answer is not valid JSON")]
    [TestCase("page", "answered 200 with text/html, not an MCP message")]
    [TestCase("ten megabytes", "more than 4 MiB")]
    [TestCase("redirect", "a redirect to https://elsewhere.example.com/mcp")]
    [TestCase("slow", "did not answer within 1.5 s")]
    [TestCase("unauthorized", "refused Orchflow's request (401 Unauthorized)")]
    public async Task CreateToolServer_HostileServer_422NamingUrlAndWhatItGot(string kind, string expected)
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        var url = kind == "down" ? $"http://127.0.0.1:{Ports.FreeLoopbackPort()}/mcp" : server.Url;
        server.Always(kind switch
        {
            "garbage" => LoopbackMcpServer.Garbage(),
            "page" => LoopbackMcpServer.Page(),
            "ten megabytes" => LoopbackMcpServer.TenMegabytes(),
            "redirect" => LoopbackMcpServer.Redirect("https://elsewhere.example.com/mcp"),
            "slow" => LoopbackMcpServer.Silence(TimeSpan.FromSeconds(20)),
            "unauthorized" => new FakeReply(401, ""),
            _ => LoopbackMcpServer.Page(),
        });
        using var client = await RegisterAsync();

        var response = await CreateAsync(client, new { url });
        var list = await client.SendAsync(HttpMethod.Get, "tool-servers");

        Assert.Multiple(() =>
        {
            Assert.That(ApiAssert.Invalid(response, "url"), Does.StartWith($"'url' ({url})").And.Contain(expected));
            Assert.That(ApiAssert.Json(list, HttpStatusCode.OK)["tool_servers"]!.AsArray(), Is.Empty, "nothing was registered");
        });
    }

    [Test]
    public async Task CreateToolServer_ThousandTools_201With128AndTruncated()
    {
        await using var server = await LoopbackMcpServer.StartAsync(extraTools: 1000);
        using var client = await RegisterAsync();

        var created = ApiAssert.Json(await CreateAsync(client, new { url = server.Url }), HttpStatusCode.Created);

        Assert.Multiple(() =>
        {
            Assert.That(created["tools"]!.AsArray(), Has.Count.EqualTo(128));
            Assert.That(created["tools_truncated"]!.GetValue<bool>(), Is.True);
        });
    }

    [Test]
    public async Task RefreshToolServer_ServerNowDown_422AndToolsKept()
    {
        var server = await LoopbackMcpServer.StartAsync();
        using var client = await RegisterAsync();
        var created = ApiAssert.Json(await CreateAsync(client, new { url = server.Url }), HttpStatusCode.Created);
        var serverId = created.Str("server_id");
        await server.DisposeAsync();

        var refresh = await client.SendAsync(HttpMethod.Post, $"tool-servers/{serverId}/refresh");
        var after = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, $"tool-servers/{serverId}"), HttpStatusCode.OK);

        Assert.Multiple(() =>
        {
            Assert.That(ApiAssert.Invalid(refresh, "url"), Does.Contain("could not be reached").And.EndWith("Its tools stay as last listed."));
            Assert.That(after["tools"]!.ToJsonString(), Is.EqualTo(created["tools"]!.ToJsonString()));
            Assert.That(after.Str("refreshed_at"), Is.EqualTo(created.Str("refreshed_at")));
        });
    }

    [Test]
    public async Task CreateToolServer_EleventhServer_409Conflict()
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        using var client = await RegisterAsync();
        for (var i = 0; i < 10; i++)
        {
            ApiAssert.Json(await CreateAsync(client, new { url = server.Url, label = $"Server {i}" }), HttpStatusCode.Created);
        }

        var eleventh = await CreateAsync(client, new { url = server.Url });

        Assert.That(ApiAssert.Problem(eleventh, HttpStatusCode.Conflict, "conflict").Str("detail"), Does.Contain("10 tool servers"));
    }

    [Test]
    public async Task ToolServer_AnotherAccountsId_404OnEveryRoute()
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        using var owner = await RegisterAsync();
        using var other = await RegisterAsync();
        var serverId = ApiAssert.Json(await CreateAsync(owner, new { url = server.Url }), HttpStatusCode.Created).Str("server_id");

        var answers = new[]
        {
            await other.SendAsync(HttpMethod.Get, $"tool-servers/{serverId}"),
            await other.SendAsync(HttpMethod.Post, $"tool-servers/{serverId}/refresh"),
            await other.SendAsync(HttpMethod.Delete, $"tool-servers/{serverId}"),
        };
        var list = await other.SendAsync(HttpMethod.Get, "tool-servers");
        var own = await owner.SendAsync(HttpMethod.Get, $"tool-servers/{serverId}");

        Assert.Multiple(() =>
        {
            foreach (var answer in answers)
            {
                ApiAssert.Problem(answer, HttpStatusCode.NotFound, "not_found");
            }

            Assert.That(ApiAssert.Json(list, HttpStatusCode.OK)["tool_servers"]!.AsArray(), Is.Empty);
            Assert.That(own.Status, Is.EqualTo(HttpStatusCode.OK), "the owner's server is still there");
        });
    }
}
