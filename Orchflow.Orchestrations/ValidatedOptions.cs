using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Orchflow;

/// <summary>Binds a settings section and checks it with its validator when the host starts, not at first use.</summary>
public static class ValidatedOptions
{
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidation>(this IServiceCollection services, IConfiguration section)
        where TOptions : class
        where TValidation : class, IValidateOptions<TOptions>
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidation>());
        return services.AddOptions<TOptions>().Bind(section).ValidateOnStart();
    }

    /// <summary>
    /// Checks every section at once, before the host builds its hosted services: those read their settings as they are
    /// built, which would stop the host on the first bad section alone.
    /// </summary>
    public static THost ValidateSettings<THost>(this THost host)
        where THost : IHost
    {
        host.Services.GetService<IStartupValidator>()?.Validate();
        return host;
    }
}
