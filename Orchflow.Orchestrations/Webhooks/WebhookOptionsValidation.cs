using Microsoft.Extensions.Options;

namespace Orchflow.Webhooks;

/// <summary>Checks <see cref="WebhookOptions"/> at start-up.</summary>
public sealed class WebhookOptionsValidation : IValidateOptions<WebhookOptions>
{
    /// <summary>A storage queue hides a message for at most seven days, and a retry waits as a hidden message.</summary>
    const int LongestHiddenSeconds = 7 * 24 * 3600;

    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        var errors = new SettingErrors(WebhookOptions.Section);
        if (!IsQueueName(options.Queue))
        {
            errors.AddSetting(WebhookOptions.QueueSetting, $"must be a storage queue name: 3 to 63 lower-case letters, digits and single dashes, " +
                                              $"beginning and ending with a letter or digit, not '{options.Queue}'.");
        }

        errors.Range(nameof(options.MaxAttempts), options.MaxAttempts, 1, 100);
        errors.Range(nameof(options.FirstRetryDelayMs), options.FirstRetryDelayMs, 0, LongestHiddenSeconds * 1000L);
        errors.Range(nameof(options.RetryBackoffFactor), options.RetryBackoffFactor, 1, 100);
        errors.Range(nameof(options.MaxRetryDelaySeconds), options.MaxRetryDelaySeconds, 0, LongestHiddenSeconds);
        errors.Range(nameof(options.TimeoutSeconds), options.TimeoutSeconds, 1, 600);
        errors.Range(nameof(options.MaxPerAccount), options.MaxPerAccount, 1, 1_000);
        errors.Range(nameof(options.SecretOverlapHours), options.SecretOverlapHours, 0, 24 * 30);
        errors.Range(nameof(options.OutboxDelaySeconds), options.OutboxDelaySeconds, 1, LongestHiddenSeconds);
        errors.Range(nameof(options.CacheSeconds), options.CacheSeconds, 0, 3_600);
        errors.Range(nameof(options.MaxPollIntervalMs), options.MaxPollIntervalMs, 10, 60_000);
        return errors.Result();
    }

    static bool IsQueueName(string? queue) =>
        queue is { Length: >= 3 and <= 63 } &&
        queue.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') &&
        queue[0] != '-' && queue[^1] != '-' && !queue.Contains("--", StringComparison.Ordinal);
}
