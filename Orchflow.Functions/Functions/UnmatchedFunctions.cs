using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Orchflow.Functions.Http;

namespace Orchflow.Functions.Functions;

/// <summary>
/// Every request under the route prefix that no other function serves: a known path asked with a method it does not
/// serve gets 405 with <c>Allow</c>, any other path 404, both as problem details.
/// </summary>
public sealed class UnmatchedFunctions
{
    /// <summary>
    /// The Functions host tries routes in the order it registers its functions, not by how specific they are
    /// (azure-functions-host#9876), so this catch-all's name sorts after every other function's; a test holds it there.
    /// </summary>
    [Function(nameof(Unmatched))]
    [PublicRoute]
    public IActionResult Unmatched(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "delete", "patch", "head", "options", Route = "api/{*path}")] HttpRequest req)
    {
        var allowed = FunctionCatalog.MethodsAt(req.Path);
        return allowed.Count == 0
            ? Problems.NotFound($"There is no {req.Method} {req.Path}; see the API reference at {FunctionCatalog.ApiBase}/openapi.json.")
            : Problems.MethodNotAllowed(req.Method, req.Path, allowed);
    }
}
