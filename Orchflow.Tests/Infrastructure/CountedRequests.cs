using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>A pipeline policy that counts the storage requests a client sends: what an operation costs, in requests.</summary>
sealed class CountedRequests : HttpPipelinePolicy
{
    int count;

    public int Count => count;

    /// <summary>Tables of their own on the shared Azurite whose every request is counted.</summary>
    public OrchflowTables Tables()
    {
        var options = new TableClientOptions();
        options.AddPolicy(this, HttpPipelinePosition.PerCall);
        return new OrchflowTables(
            Options.Create(new StorageOptions { ConnectionString = TestEnvironment.Azurite.ConnectionString, TablePrefix = StorageFixture.NewTablePrefix() }),
            options);
    }

    /// <summary>How many requests <paramref name="operation"/> sent.</summary>
    public async Task<int> OfAsync(Func<Task> operation)
    {
        var before = count;
        await operation();
        return count - before;
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Interlocked.Increment(ref count);
        ProcessNext(message, pipeline);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Interlocked.Increment(ref count);
        await ProcessNextAsync(message, pipeline);
    }
}
