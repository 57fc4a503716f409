using Microsoft.Extensions.Options;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>Tables of their own on the shared Azurite, so a test class sees only the rows it wrote.</summary>
public static class StorageFixture
{
    public static string NewTablePrefix() => "t" + Guid.NewGuid().ToString("N")[..12];

    public static OrchflowTables NewTables(string? prefix = null) =>
        new(Options.Create(new StorageOptions
        {
            ConnectionString = TestEnvironment.Azurite.ConnectionString,
            TablePrefix = prefix ?? NewTablePrefix(),
        }));
}
