using Microsoft.Extensions.Options;

namespace Orchflow;

/// <summary>Checks <see cref="EngineOptions"/> at start-up.</summary>
public sealed class EngineOptionsValidation : IValidateOptions<EngineOptions>
{
    public ValidateOptionsResult Validate(string? name, EngineOptions options)
    {
        var errors = new SettingErrors(EngineOptions.Section);
        // A plan has at most 20 tasks; more than 50 at once would only queue behind the host's own activity limit.
        errors.Range(nameof(options.MaxParallelTasks), options.MaxParallelTasks, 1, 50);
        // 0 allows no send-back: a rejected draft fails its task at once.
        errors.Range(nameof(options.MaxReviewRounds), options.MaxReviewRounds, 0, 20);
        errors.Range(nameof(options.ContextBudgetChars), options.ContextBudgetChars, 1_000, 1_000_000);
        return errors.Result();
    }
}
