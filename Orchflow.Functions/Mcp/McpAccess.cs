using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Orchflow.Functions.Http;

namespace Orchflow.Functions.Mcp;

/// <summary>
/// Who may speak MCP at <c>/mcp</c>: a caller with an API key, in <c>X-API-Key</c> or as <c>Authorization: Bearer
/// orch_…</c> (what MCP clients' configurations let one set), checked like on every route; and, in Development with
/// <see cref="McpOptions.LoopbackApiKey"/> set, a key-less client on this machine. Pages of other sites are refused
/// before any key is looked at (the Streamable HTTP transport's rule against DNS rebinding).
/// </summary>
public sealed class McpAccess(ApiKeyAuthenticator authenticator, IOptions<BrowserClientOptions> browsers, IOptions<McpOptions> options)
{
    const string BearerPrefix = "Bearer ";

    /// <summary>Authenticates the request; null when it may go on, else the refusal to send.</summary>
    public async Task<ApiResult?> AuthenticateAsync(HttpContext http)
    {
        if (ForeignOrigin(http) is { } refused)
        {
            return refused;
        }

        var request = http.Request;
        if (request.Headers.ContainsKey(ApiKeyAuthenticator.Header))
        {
            return await authenticator.AuthenticateAsync(http);
        }

        var authorization = request.Headers.Authorization;
        if (authorization.Count > 0)
        {
            var value = authorization.Count == 1 ? authorization[0] ?? "" : "";
            return value.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase)
                ? await authenticator.AuthenticateKeyAsync(http, value[BearerPrefix.Length..].Trim(), "Authorization")
                : Problems.Unauthorized("Send your API key as 'Authorization: Bearer orch_…' or in the X-API-Key header.");
        }

        if (options.Value.LoopbackApiKey is { } loopbackKey && IsLoopbackCaller(http))
        {
            return await authenticator.AuthenticateKeyAsync(http, loopbackKey, "Orchflow:Mcp:LoopbackApiKey");
        }

        return Problems.Unauthorized($"Send your API key in the {ApiKeyAuthenticator.Header} header or as 'Authorization: Bearer orch_…'.");
    }

    /// <summary>
    /// A request sent by a page of another site: its <c>Origin</c> is neither this server's own, nor on this machine (a
    /// local tool such as the MCP Inspector's page), nor one of <c>Orchflow:Cors:AllowedOrigins</c>. Clients that are
    /// not browsers send no <c>Origin</c>.
    /// </summary>
    ApiResult? ForeignOrigin(HttpContext http)
    {
        var origin = http.Request.Headers.Origin.ToString();
        var own = $"{http.Request.Scheme}://{http.Request.Host}";
        if (origin.Length == 0 || browsers.Value.Allows(http.Request.Headers.Origin) || string.Equals(origin, own, StringComparison.OrdinalIgnoreCase) ||
            Uri.TryCreate(origin, UriKind.Absolute, out var uri) && IsLoopbackHost(uri.Host))
        {
            return null;
        }

        return Problems.Forbidden($"Requests to /mcp from pages of {origin} are refused: only this server's own pages, pages on this machine and the origins in Orchflow:Cors:AllowedOrigins may call it.");
    }

    /// <summary>
    /// The key-less loopback client: from this machine, naming this machine as the host, from no page of another host.
    /// A page of another site that a DNS rebinding pointed at 127.0.0.1 names its own host, so it is never served with
    /// the loopback key.
    /// </summary>
    static bool IsLoopbackCaller(HttpContext http) =>
        http.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote) && IsLoopbackHost(http.Request.Host.Host) &&
        (http.Request.Headers.Origin.Count == 0 ||
         Uri.TryCreate(http.Request.Headers.Origin.ToString(), UriKind.Absolute, out var origin) && IsLoopbackHost(origin.Host));

    static bool IsLoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ||
        IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
}
