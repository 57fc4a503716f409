using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Orchflow.Testing;

/// <summary>A bare Kestrel app on a loopback port the OS picks, answering every request with one handler: the base of the tests' fake servers.</summary>
public static class LoopbackApp
{
    /// <summary>Starts the app; <paramref name="shutdownTimeout"/> is the backstop after which its open connections are aborted on stop.</summary>
    public static async Task<(WebApplication App, Uri BaseUri)> StartAsync(RequestDelegate handler, TimeSpan shutdownTimeout)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.None);
        // The console lifetime would trap SIGINT/SIGTERM for the whole test process while the server runs.
        builder.Services.AddSingleton<IHostLifetime, NoSignalLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout);
        builder.WebHost.UseKestrelCore();
        // Port 0 lets the OS pick the port at bind time, so no other process can take it between choosing and binding.
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        app.Run(handler);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        // After start, Urls holds the address Kestrel actually bound, with the port the OS chose.
        return (app, new Uri($"http://127.0.0.1:{new Uri(app.Urls.Single()).Port}/"));
    }

    public sealed class NoSignalLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
