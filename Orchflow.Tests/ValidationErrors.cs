using Microsoft.Extensions.Options;

namespace Orchflow.Tests;

/// <summary>What an options validator reports, as a list the tests compare whole.</summary>
static class ValidationErrors
{
    public static IReadOnlyList<string> Errors<TOptions>(this IValidateOptions<TOptions> validation, TOptions options)
        where TOptions : class =>
        validation.Validate(Options.DefaultName, options) is { Failed: true } result ? [.. result.Failures!] : [];
}
