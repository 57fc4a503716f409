using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Orchflow.Infrastructure;

namespace Orchflow.LocalHost;

/// <summary>
/// Says where the host listens once it does, and warns first when it runs on Development-only secrets (the fixed API key pepper and secrets key,
/// readable in this code) and listens beyond loopback: whoever reaches it could forge nothing, but could read what
/// those keys protect off a copy of its storage, and it was never meant to be reached from elsewhere.
/// </summary>
public static class DevelopmentExposure
{
    public static WebApplication WarnWhenExposed(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var keys = app.Services.GetRequiredService<IOptions<SecurityOptions>>().Value.DevelopmentKeysInUse();
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var exposed = addresses.Where(a => !IsLoopback(a)).ToList();
            if (keys.Count > 0 && exposed.Count > 0)
            {
                app.Logger.LogWarning(
                    "Orchflow runs on Development-only values of {Settings}, which anyone can read in its source, and listens on {Addresses}, " +
                    "beyond loopback. Set those settings to secrets of your own, or listen on 127.0.0.1 only.",
                    string.Join(", ", keys), string.Join(", ", exposed));
            }

            app.Logger.LogInformation("Orchflow is listening on {Addresses}", string.Join(", ", addresses));
        });
        return app;
    }

    /// <summary>Whether a listening address (<c>http://127.0.0.1:7071</c>, <c>http://[::]:80</c>, <c>http://+:80</c>…) is loopback only.</summary>
    public static bool IsLoopback(string address)
    {
        if (!Uri.TryCreate(address.Replace("://+", "://any-host", StringComparison.Ordinal).Replace("://*", "://any-host", StringComparison.Ordinal),
                UriKind.Absolute, out var uri))
        {
            return false;
        }

        var host = uri.Host.Trim('[', ']');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }
}
