using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Orchflow.Agents;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Http;

namespace Orchflow.Functions.Functions;

/// <summary>The built-in agent templates, and the service's health.</summary>
public sealed class AgentsFunctions
{
    [Function(nameof(ListAgentTemplates))]
    [PublicRoute]
    public IActionResult ListAgentTemplates(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionCatalog.Api + "/agents/templates")] HttpRequest req) =>
        ApiResult.Ok(new AgentTemplateListView(AgentCatalog.BuiltIn.Select(t => new AgentTemplateView(t.Name, t.Description, t.SystemPrompt)).ToList()));
}
