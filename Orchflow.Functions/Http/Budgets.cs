using Orchflow.Domain;
using Orchflow.Functions.Contracts;

namespace Orchflow.Functions.Http;

/// <summary>A run's budget as a client sends it: at least one limit, each a positive whole number within bounds.</summary>
static class Budgets
{
    public const long MaxTokens = 1_000_000_000;
    public const int MaxToolCalls = 10_000;

    /// <summary>The budget in <paramref name="body"/>, its problems added to <paramref name="v"/> under <paramref name="field"/>; null when it has any.</summary>
    public static RunBudget? Read(Validation v, string field, BudgetRequest body)
    {
        var prefix = field.Length == 0 ? "" : field + ".";
        var valid = true;
        if (body.MaxTokens is null && body.MaxToolCalls is null)
        {
            v.Add(field.Length == 0 ? "max_tokens" : field, "Give 'max_tokens', 'max_tool_calls' or both.");
            valid = false;
        }

        if (body.MaxTokens is < 1 or > MaxTokens)
        {
            v.Add(prefix + "max_tokens", $"'max_tokens' must be from 1 to {MaxTokens:N0}.");
            valid = false;
        }

        if (body.MaxToolCalls is < 1 or > MaxToolCalls)
        {
            v.Add(prefix + "max_tool_calls", $"'max_tool_calls' must be from 1 to {MaxToolCalls:N0}.");
            valid = false;
        }

        return valid ? new RunBudget(body.MaxTokens, body.MaxToolCalls) : null;
    }
}
