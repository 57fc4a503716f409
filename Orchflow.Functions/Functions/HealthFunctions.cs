using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Health;
using Orchflow.Functions.Http;

namespace Orchflow.Functions.Functions;

/// <summary>Liveness and readiness: 200 with the version while storage and the durable backend answer, else 503 naming what does not.</summary>
public sealed class HealthFunctions(HealthProbe probe)
{
    static readonly string Version =
        typeof(HealthFunctions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    [Function(nameof(Health))]
    [PublicRoute]
    public async Task<IActionResult> Health(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionCatalog.Api + "/health")] HttpRequest req,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var report = await probe.CheckAsync(durable).WaitAsync(cancellationToken);
        var checks = new Dictionary<string, string>
        {
            [HealthProbe.Storage] = report.StorageReachable ? "ok" : "unreachable",
            [HealthProbe.DurableBackend] = report.DurableBackendReachable ? "ok" : "unreachable",
        };
        if (report.Healthy)
        {
            return ApiResult.Ok(new HealthView("ok", Version, checks));
        }

        var detail = (report.StorageReachable, report.DurableBackendReachable) switch
        {
            (false, false) => "Storage and the durable backend are not reachable.",
            (false, _) => "Storage is not reachable.",
            _ => "The durable backend is not reachable.",
        };
        var problem = (Problem)Problems.Unavailable(detail).Body!;
        return new ApiResult(StatusCodes.Status503ServiceUnavailable,
            new UnavailableProblem(problem.Type, problem.Title, problem.Status, problem.Detail, problem.Code, checks),
            new Dictionary<string, string> { ["Cache-Control"] = "no-store" }, "application/problem+json");
    }
}
