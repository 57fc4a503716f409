using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Orchflow.Tests.Support;

/// <summary>A loopback web server whose pages a test writes as handlers, one per path; every request's path and headers are recorded.</summary>
public sealed class LoopbackPages : IAsyncDisposable
{
    readonly ConcurrentDictionary<string, Func<HttpContext, Task>> pages = new();
    readonly ConcurrentQueue<(string Path, IReadOnlyDictionary<string, string> Headers)> requests = new();
    WebApplication app = null!;

    LoopbackPages()
    {
    }

    public static async Task<LoopbackPages> StartAsync()
    {
        var server = new LoopbackPages();
        (server.app, server.BaseUri) = await LoopbackApp.StartAsync(server.ServeAsync, TimeSpan.FromSeconds(1));
        return server;
    }

    public Uri BaseUri { get; private set; } = null!;

    public string Url(string path) => new Uri(BaseUri, path.TrimStart('/')).ToString();

    public IReadOnlyList<(string Path, IReadOnlyDictionary<string, string> Headers)> Requests => requests.ToArray();

    /// <summary>Serves <paramref name="path"/> with <paramref name="page"/>; any other path answers 404.</summary>
    public void Serve(string path, Func<HttpContext, Task> page) => pages["/" + path.TrimStart('/')] = page;

    public void Serve(string path, string contentType, string body) => Serve(path, async context =>
    {
        context.Response.ContentType = contentType;
        await context.Response.WriteAsync(body, context.RequestAborted);
    });

    async Task ServeAsync(HttpContext context)
    {
        requests.Enqueue((context.Request.Path, context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
        if (pages.TryGetValue(context.Request.Path, out var page))
        {
            try
            {
                await page(context);
            }
            catch (OperationCanceledException)
            {
                context.Abort();
            }

            return;
        }

        context.Response.StatusCode = 404;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
