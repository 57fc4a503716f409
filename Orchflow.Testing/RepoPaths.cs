using System.Reflection;

namespace Orchflow.Testing;

/// <summary>Where the repository and its built artefacts are, from the running program's location.</summary>
public static class RepoPaths
{
    public static readonly string Root = FindRoot();

    /// <summary>Debug or Release: the configuration this library was built in, with the tests or the bench that use it.</summary>
    public static readonly string Configuration =
        typeof(RepoPaths).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration
        ?? throw new InvalidOperationException("Orchflow.Testing does not say which configuration it was built in.");

    public static string LocalHostDll =>
        Path.Combine(Root, "Orchflow.LocalHost", "bin", Configuration, "net10.0", "Orchflow.LocalHost.dll");

    public static string FunctionsOutput => Path.Combine(Root, "Orchflow.Functions", "bin", Configuration, "net10.0");

    public static string Azurite => Path.Combine(Root, "tools", "node_modules", ".bin", "azurite");

    /// <summary>The npm packages the scripts install for the tests (tools/package.json).</summary>
    public static string NodeModules => Path.Combine(Root, "tools", "node_modules");

    static string FindRoot()
    {
        if (Environment.GetEnvironmentVariable("ORCHFLOW_REPO_ROOT") is { Length: > 0 } fromEnv)
        {
            return fromEnv;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Orchflow.Functions.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Cannot find the repository root (Orchflow.Functions.sln) above the running program.");
    }
}
