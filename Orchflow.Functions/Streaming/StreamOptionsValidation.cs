using Microsoft.Extensions.Options;

namespace Orchflow.Functions.Streaming;

/// <summary>Checks <see cref="StreamOptions"/> at start-up.</summary>
public sealed class StreamOptionsValidation : IValidateOptions<StreamOptions>
{
    public ValidateOptionsResult Validate(string? name, StreamOptions options)
    {
        var errors = new SettingErrors(StreamOptions.Section);
        errors.Range(nameof(options.PollMs), options.PollMs, 10, 60_000);
        errors.Range(nameof(options.IdlePollMs), options.IdlePollMs, Math.Clamp(options.PollMs, 10, 60_000), 60_000);
        errors.Range(nameof(options.OutputPollMs), options.OutputPollMs, 10, 60_000);
        // Azure's front end closes a response after about 230 s without traffic.
        errors.Range(nameof(options.HeartbeatSeconds), options.HeartbeatSeconds, 1, 200);
        errors.Range(nameof(options.MaxPerCaller), options.MaxPerCaller, 1, 10_000);
        errors.Range(nameof(options.MaxLifetimeSeconds), options.MaxLifetimeSeconds, 1, 24 * 3600);
        return errors.Result();
    }
}
