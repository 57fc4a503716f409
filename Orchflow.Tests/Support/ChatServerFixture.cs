using Microsoft.Extensions.Options;
using Orchflow.Infrastructure.Network;
using Orchflow.Models;

namespace Orchflow.Tests.Support;

/// <summary>
/// A fixture that calls the model adapters over real HTTP: one loopback OpenAI-protocol server for the fixture, reset
/// before each test, and the adapters' HTTP client, allowed to call it on loopback.
/// </summary>
public abstract class ChatServerFixture
{
    protected FakeChatServer Server { get; private set; } = null!;

    protected ModelHttp Http { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task StartServerAsync()
    {
        Server = await FakeChatServer.StartAsync();
        Http = new ModelHttp(Options.Create(new ModelOptions()), AddressPolicy.Loopback());
    }

    [OneTimeTearDown]
    public async Task StopServerAsync()
    {
        Http?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }

    [SetUp]
    public void ResetServer() => Server.Reset();
}
