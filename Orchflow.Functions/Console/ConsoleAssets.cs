using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using Orchflow.Functions.Http;

namespace Orchflow.Functions.Console;

/// <summary>
/// The web console's files, embedded in this assembly so that both hosts serve the same bytes. The scripts and styles
/// are served under one content hash of them all (<c>/console/assets/{version}/app.js</c>): their URLs change whenever
/// any byte does, so browsers may keep them for a year, and the ES modules still import each other by plain relative
/// names. The page itself is never cached without asking again.
/// </summary>
public static class ConsoleAssets
{
    public const string BasePath = "/console";

    /// <summary>Where the page names its assets; replaced with <see cref="AssetBase"/> when the page is loaded.</summary>
    const string AssetBasePlaceholder = "{{asset-base}}";

    const string ResourcePrefix = "Orchflow.Functions.Console.Assets.";

    /// <summary>
    /// Allows this origin's own scripts, styles and API calls, nothing inline and nothing from anywhere else; the
    /// page may not be framed, post forms or change its base URL.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public const string ImmutableCaching = "public, max-age=31536000, immutable";

    static readonly Lazy<Catalog> Files = new(Load);

    /// <summary>The content hash naming this build's assets.</summary>
    public static string Version => Files.Value.Version;

    public static string AssetBase => $"{BasePath}/assets/{Version}";

    /// <summary>File names of the assets (the page excluded).</summary>
    public static IEnumerable<string> Names => Files.Value.Assets.Keys;

    /// <summary>The page, with a strong tag so a reload costs a 304.</summary>
    public static IActionResult Index(HttpRequest request) =>
        Respond(request, Files.Value.Index, ConsoleHeaders("no-cache"));

    /// <summary>An asset by the version and name its URL gives; 404 for another build's version or an unknown name.</summary>
    public static IActionResult Asset(HttpRequest request, string? version, string? name)
    {
        if (version != Version || name is null || !Files.Value.Assets.TryGetValue(name, out var file))
        {
            return Problems.NotFound($"The console has no asset {request.Path}; reload {BasePath} for the current ones.");
        }

        return Respond(request, file, ConsoleHeaders(ImmutableCaching));
    }

    static Dictionary<string, string> ConsoleHeaders(string caching) => new()
    {
        [HeaderNames.CacheControl] = caching,
        [HeaderNames.ContentSecurityPolicy] = ContentSecurityPolicy,
        [HeaderNames.XContentTypeOptions] = "nosniff",
        ["Referrer-Policy"] = "no-referrer",
        ["Cross-Origin-Opener-Policy"] = "same-origin",
    };

    static IActionResult Respond(HttpRequest request, ConsoleFile file, Dictionary<string, string> headers)
    {
        headers[HeaderNames.ETag] = file.Tag;
        return ConditionalReads.Matches(request, file.Tag)
            ? new ApiResult(StatusCodes.Status304NotModified, null, headers)
            : new FileBytes(file, headers);
    }

    static Catalog Load()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var assets = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            assets[resource[ResourcePrefix.Length..]] = copy.ToArray();
        }

        if (!assets.Remove("index.html", out var page))
        {
            throw new InvalidOperationException("The console's index.html is not embedded in the build.");
        }

        // One hash over every asset's name and bytes: the version changes with any of them.
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, bytes) in assets)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(name + "\0"));
            hash.AppendData(bytes);
            hash.AppendData("\0"u8);
        }

        var version = Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
        var index = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(page).Replace(AssetBasePlaceholder, $"{BasePath}/assets/{version}", StringComparison.Ordinal));
        return new Catalog(
            version,
            Make("index.html", index),
            assets.ToDictionary(a => a.Key, a => Make(a.Key, a.Value), StringComparer.Ordinal));
    }

    static ConsoleFile Make(string name, byte[] bytes) =>
        new(bytes, MediaType(name), $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..32]}\"");

    static string MediaType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => throw new InvalidOperationException($"The console asset {name} has a type the console does not serve."),
    };

    sealed record Catalog(string Version, ConsoleFile Index, IReadOnlyDictionary<string, ConsoleFile> Assets);

    sealed record ConsoleFile(byte[] Bytes, string MediaType, string Tag);

    /// <summary>A file's bytes with its headers, written the same way by either host.</summary>
    sealed class FileBytes(ConsoleFile file, IReadOnlyDictionary<string, string> headers) : IActionResult
    {
        public async Task ExecuteResultAsync(ActionContext context)
        {
            var response = context.HttpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            foreach (var (name, value) in headers)
            {
                response.Headers[name] = value;
            }

            response.ContentType = file.MediaType;
            response.ContentLength = file.Bytes.Length;
            await response.Body.WriteAsync(file.Bytes, context.HttpContext.RequestAborted);
        }
    }
}
