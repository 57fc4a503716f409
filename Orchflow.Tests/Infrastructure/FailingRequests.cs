using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>
/// A storage fault that Azurite never produces on its own: the first request of the method whose address or body holds
/// the text fails as a 503 would, before it is sent. Placed before the client's retries, so the failure reaches the caller.
/// </summary>
sealed class FailingRequests(string method, string holding) : HttpPipelinePolicy
{
    int failed;

    public int Failed => failed;

    /// <summary>Tables of the given prefix on the shared Azurite whose client fails the first matching request.</summary>
    public OrchflowTables Tables(string prefix)
    {
        var options = new TableClientOptions();
        options.AddPolicy(this, HttpPipelinePosition.PerCall);
        return new OrchflowTables(Options.Create(new StorageOptions { ConnectionString = TestEnvironment.Azurite.ConnectionString, TablePrefix = prefix }), options);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Fail(message);
        ProcessNext(message, pipeline);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Fail(message);
        await ProcessNextAsync(message, pipeline);
    }

    void Fail(HttpMessage message)
    {
        if (failed > 0 || message.Request.Method.Method != method)
        {
            return;
        }

        using var body = new MemoryStream();
        message.Request.Content?.WriteTo(body, CancellationToken.None);
        if (Uri.UnescapeDataString(message.Request.Uri.ToString()).Contains(holding, StringComparison.Ordinal) ||
            System.Text.Encoding.UTF8.GetString(body.ToArray()).Contains(holding, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref failed);
            throw new RequestFailedException(503, "Injected: the storage service is unavailable.");
        }
    }
}
