using Microsoft.Extensions.Options;

namespace Orchflow.LocalHost;

/// <summary>Checks <see cref="DurableBackendOptions"/> at start-up.</summary>
public sealed class DurableBackendOptionsValidation : IValidateOptions<DurableBackendOptions>
{
    public ValidateOptionsResult Validate(string? name, DurableBackendOptions options)
    {
        var errors = new SettingErrors(DurableBackendOptions.Section);
        // The Azure Storage backend's rule: its queues and tables are named after the hub.
        if (options.TaskHub is not { Length: >= 3 and <= 45 } hub || !char.IsAsciiLetter(hub[0]) || !hub.All(char.IsAsciiLetterOrDigit))
        {
            errors.Add(nameof(options.TaskHub), $"must be 3 to 45 letters and digits, beginning with a letter, not '{options.TaskHub}'.");
        }

        errors.Range(nameof(options.MaxQueuePollingIntervalMs), options.MaxQueuePollingIntervalMs, 10, 300_000);
        errors.Range(nameof(options.PartitionCount), options.PartitionCount, 1, 16);
        errors.Range(nameof(options.WorkItemVisibilityTimeoutSeconds), options.WorkItemVisibilityTimeoutSeconds, 1, 3_600);
        errors.Range(nameof(options.LeaseAcquireIntervalSeconds), options.LeaseAcquireIntervalSeconds, 1, 300);
        if (options.LeaseIntervalSeconds < 2 * options.LeaseAcquireIntervalSeconds)
        {
            errors.Add(nameof(options.LeaseIntervalSeconds),
                $"must be at least twice {errors.Name(nameof(options.LeaseAcquireIntervalSeconds))} ({2 * options.LeaseAcquireIntervalSeconds}), " +
                $"not {options.LeaseIntervalSeconds}, or a live worker's leases expire between renewals.");
        }

        errors.Range(nameof(options.MaxConcurrentActivities), options.MaxConcurrentActivities, 1, 1_000);
        errors.Range(nameof(options.MaxConcurrentOrchestrations), options.MaxConcurrentOrchestrations, 1, 1_000);
        return errors.Result();
    }
}
