using Azure.Core;

namespace Orchflow.Tests.Infrastructure;

/// <summary>
/// A process that dies after a given number of writes, which Azurite cannot produce: those writes reach storage, and
/// every request after them (the undoing deletes included) fails before it is sent, so nothing more of the process's
/// work lands. Table creation does not count as a write.
/// </summary>
sealed class DyingProcess(int writesBeforeDeath) : StorageFault
{
    int writes;

    public bool Died => writes > writesBeforeDeath;

    protected override void Check(HttpMessage message)
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
