using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>
/// A process that dies after a given number of writes, which Azurite cannot produce: those writes reach storage, and
/// every request after them (the undoing deletes included) fails before it is sent, so nothing more of the process's
/// work lands. Table creation does not count as a write.
/// </summary>
sealed class DyingProcess(int writesBeforeDeath) : HttpPipelinePolicy
{
    int writes;

    public bool Died => writes > writesBeforeDeath;

    /// <summary>Tables of the given prefix on the shared Azurite, reached through this process.</summary>
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

    void Check(HttpMessage message)
    {
        var creatingTable = message.Request.Uri.Path.EndsWith("/Tables", StringComparison.Ordinal);
        if (!Died && (message.Request.Method == RequestMethod.Get || creatingTable))
        {
            return;
        }

        if (Died || Interlocked.Increment(ref writes) > writesBeforeDeath)
        {
            throw new ProcessDiedException();
        }
    }
}

/// <summary>What every request of a <see cref="DyingProcess"/> meets once it has died.</summary>
sealed class ProcessDiedException() : Exception("The process died.");
