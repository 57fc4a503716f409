using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Infrastructure.Network;
using Orchflow.Infrastructure.Storage;
using Orchflow.Tests.Infrastructure;
using Orchflow.Tools;

namespace Orchflow.Tests.Tools;

/// <summary>
/// The toolbox and what it stands on, wired as the hosts wire them, on tables of their own in the shared Azurite and a
/// secret store in memory, with the time limits and address policy a test chooses.
/// </summary>
sealed class ToolHarness : IAsyncDisposable
{
    public ToolHarness(TimeSpan? callTimeout = null, TimeSpan? connectTimeout = null, bool allowLoopback = true)
    {
        Options = Microsoft.Extensions.Options.Options.Create(new ToolOptions
        {
            CallTimeoutMs = (int)(callTimeout ?? TimeSpan.FromSeconds(20)).TotalMilliseconds,
            ConnectTimeoutMs = (int)(connectTimeout ?? TimeSpan.FromSeconds(20)).TotalMilliseconds,
        });
        Addresses = allowLoopback ? AddressPolicy.Loopback() : AddressPolicy.PublicOnly;
        Http = new ToolHttp(Addresses);
        Connector = new McpConnector(Http);
        Sessions = new McpSessions(Connector, TimeProvider.System);
        Servers = new ToolServers(Connector, Sessions, Secrets, Options);
        Store = new TableToolServerStore(StorageFixture.NewTables());
        FetchUrl = new FetchUrlTool(Http, Addresses, Options);
        Toolbox = new Toolbox(Store, Servers, Sessions, FetchUrl, Options, NullLogger<Toolbox>.Instance);
    }

    public IOptions<ToolOptions> Options { get; }

    public AddressPolicy Addresses { get; }

    public ToolHttp Http { get; }

    public McpConnector Connector { get; }

    public McpSessions Sessions { get; }

    public ToolServers Servers { get; }

    public MemorySecrets Secrets { get; } = new();

    public TableToolServerStore Store { get; }

    public FetchUrlTool FetchUrl { get; }

    public Toolbox Toolbox { get; }

    public string AccountId { get; } = Ids.NewAccountId();

    /// <summary>Registers a server as the API does once it has checked the request: probed, its headers kept as a secret, stored.</summary>
    public async Task<ToolServerRecord> RegisterAsync(string url, IReadOnlyDictionary<string, string>? headers = null)
    {
        headers ??= new Dictionary<string, string>();
        var probe = await Servers.ProbeAsync(url, headers, CancellationToken.None);
        Assert.That(probe.Problem, Is.Null, "the server could be registered");
        var serverId = Ids.NewToolServerId();
        var secretName = headers.Count > 0 ? ToolServerHeaders.SecretName(AccountId, serverId) : null;
        if (secretName is not null)
        {
            await Secrets.SetAsync(secretName, ToolServerHeaders.Serialize(headers), CancellationToken.None);
        }

        var record = new ToolServerRecord(AccountId, serverId, url, "test", headers.Keys.ToList(), secretName, probe.Tools, probe.Truncated,
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);
        Assert.That(await Store.TryCreateAsync(record, ToolLimits.MaxServersPerAccount, CancellationToken.None), Is.True);
        return record;
    }

    /// <summary>Reads what the call needs, then makes it, as the tool loop does.</summary>
    public async Task<ToolOutcome> CallAsync(string tool, string arguments) =>
        await (await Toolbox.ReadyAsync(AccountId, tool, CancellationToken.None)).MakeAsync(arguments, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await Sessions.DisposeAsync();
        Http.Dispose();
    }

    /// <summary>Secrets kept in memory, readable by the test.</summary>
    public sealed class MemorySecrets : ISecretStore
    {
        public ConcurrentDictionary<string, string> Values { get; } = new();

        public Task SetAsync(string name, string value, CancellationToken cancellationToken)
        {
            Values[name] = value;
            return Task.CompletedTask;
        }

        public Task<string?> GetAsync(string name, CancellationToken cancellationToken) =>
            Task.FromResult(Values.TryGetValue(name, out var value) ? value : null);

        public Task DeleteAsync(string name, CancellationToken cancellationToken)
        {
            Values.TryRemove(name, out _);
            return Task.CompletedTask;
        }
    }
}
