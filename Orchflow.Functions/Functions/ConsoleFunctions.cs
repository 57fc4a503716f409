using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Orchflow.Functions.Console;
using Orchflow.Functions.Http;

namespace Orchflow.Functions.Functions;

/// <summary>
/// Serves the web console: a page and its scripts and styles, same origin as the API, which it calls as any client
/// would. Needs no API key: the key is pasted into the page and sent by its scripts.
/// </summary>
public sealed class ConsoleFunctions
{
    [Function(nameof(ConsoleIndex))]
    [PublicRoute]
    public IActionResult ConsoleIndex(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console")] HttpRequest req) =>
        ConsoleAssets.Index(req);

    [Function(nameof(ConsoleAsset))]
    [PublicRoute]
    public IActionResult ConsoleAsset(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "console/assets/{version}/{file}")] HttpRequest req,
        string version,
        string file) =>
        ConsoleAssets.Asset(req, version, file);
}
