using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>
/// A storage fault Azurite never produces on its own, put in front of a table client's retries: <see cref="Check"/>
/// sees every request before it is sent and throws for those that are to fail.
/// </summary>
abstract class StorageFault : HttpPipelinePolicy
{
    /// <summary>Tables of the given prefix on the shared Azurite whose client passes every request through this fault.</summary>
    public OrchflowTables Tables(string prefix)
    {
        var options = new TableClientOptions();
        options.AddPolicy(this, HttpPipelinePosition.PerCall);
        return new OrchflowTables(Options.Create(new StorageOptions { ConnectionString = TestEnvironment.Azurite.ConnectionString, TablePrefix = prefix }), options);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Check(message);
        ProcessNext(message, pipeline);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Check(message);
        await ProcessNextAsync(message, pipeline);
    }

    protected abstract void Check(HttpMessage message);
}
