using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Http;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Functions.Functions;

/// <summary>Liveness and readiness: answers once the projection's storage is reachable.</summary>
public sealed class HealthFunctions(OrchflowTables tables)
{
    static readonly string Version =
        typeof(HealthFunctions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    [Function(nameof(Health))]
    [PublicRoute]
    public async Task<IActionResult> Health(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/v1/health")] HttpRequest req,
        CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await tables.EnsureCreatedAsync().WaitAsync(timeout.Token);
        }
        catch (Exception e) when (e is Azure.RequestFailedException or OperationCanceledException or HttpRequestException)
        {
            return Problems.Unavailable("Table Storage is not reachable.");
        }

        return ApiResult.Ok(new HealthView("ok", Version));
    }
}
