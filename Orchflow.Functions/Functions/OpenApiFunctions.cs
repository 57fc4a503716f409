using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Orchflow.Functions.Http;

namespace Orchflow.Functions.Functions;

/// <summary>Serves the API's OpenAPI 3.1 description, kept beside the code as openapi.json.</summary>
public sealed class OpenApiFunctions
{
    static readonly Lazy<JsonElement> Document = new(() =>
    {
        using var stream = typeof(OpenApiFunctions).Assembly.GetManifestResourceStream("Orchflow.Functions.OpenApi.openapi.json")
                           ?? throw new InvalidOperationException("The OpenAPI document is not embedded in the build.");
        using var document = JsonDocument.Parse(stream);
        return document.RootElement.Clone();
    });

    [Function(nameof(GetOpenApi))]
    [PublicRoute]
    public IActionResult GetOpenApi(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionCatalog.Api + "/openapi.json")] HttpRequest req) =>
        ApiResult.Ok(Document.Value);
}
