using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Orchflow.Tests.Support;

/// <summary>
/// A loopback OTLP/HTTP collector (protobuf): a host pointed at it with <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> and
/// <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c> exports here. Keeps every request's raw body, so a search for a
/// secret covers every byte exported, and decodes spans, metric points and logs for the assertions.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    readonly object gate = new();
    readonly List<(string Signal, byte[] Body)> bodies = [];
    WebApplication? app;

    OtlpReceiver()
    {
    }

    /// <summary>http://127.0.0.1:{port}, what <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set to.</summary>
    public Uri Endpoint { get; private set; } = null!;

    public static async Task<OtlpReceiver> StartAsync()
    {
        var receiver = new OtlpReceiver();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, LoopbackApp.NoSignalLifetime>();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        app.Run(receiver.HandleAsync);
        receiver.app = app;
        await app.StartAsync();
        receiver.Endpoint = new Uri($"http://127.0.0.1:{new Uri(app.Urls.Single()).Port}");
        return receiver;
    }

    /// <summary>Settings that point a host's exporter here, exporting every second.</summary>
    public IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint.ToString().TrimEnd('/'),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "500",
        ["OTEL_BLRP_SCHEDULE_DELAY"] = "500",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
    };

    public IReadOnlyList<(string Signal, byte[] Body)> Bodies
    {
        get
        {
            lock (gate)
            {
                return bodies.ToArray();
            }
        }
    }

    public IReadOnlyList<ReceivedSpan> Spans => Bodies.Where(b => b.Signal == "traces").SelectMany(b => OtlpProtobuf.Spans(b.Body)).ToList();

    /// <summary>Every metric point received, oldest export first (cumulative: a later point of a series holds the earlier).</summary>
    public IReadOnlyList<ReceivedPoint> Points => Bodies.Where(b => b.Signal == "metrics").SelectMany(b => OtlpProtobuf.Points(b.Body)).ToList();

    public IReadOnlyList<ReceivedLog> Logs => Bodies.Where(b => b.Signal == "logs").SelectMany(b => OtlpProtobuf.Logs(b.Body)).ToList();

    /// <summary>Waits until <paramref name="condition"/> holds over what was received, failing with <paramref name="what"/> after the timeout.</summary>
    public async Task WaitForAsync(Func<OtlpReceiver, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!condition(this))
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"The collector did not receive {what}. Spans: {string.Join(", ", Spans.Select(s => s.Name).Distinct())}; " +
                            $"metrics: {string.Join(", ", Points.Select(p => p.Metric).Distinct())}");
            }

            await Task.Delay(200);
        }
    }

    async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var signal = context.Request.Path.Value?.TrimEnd('/').Split('/').LastOrDefault() ?? "";
        lock (gate)
        {
            bodies.Add((signal, body.ToArray()));
        }

        // An empty Export*ServiceResponse: everything accepted.
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/x-protobuf";
        context.Response.ContentLength = 0;
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
            app = null;
        }
    }
}
