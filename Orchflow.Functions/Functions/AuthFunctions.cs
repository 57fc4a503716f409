using System.Net.Mail;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Accounts;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Http;

namespace Orchflow.Functions.Functions;

/// <summary>Registration: creates an account and hands out its API key, once.</summary>
public sealed class AuthFunctions(IAccountStore accounts, IRunStore runs, ApiKeys keys, IOptions<AccountOptions> options, TimeProvider clock, ILogger<AuthFunctions> log)
{
    [Function(nameof(Register))]
    [PublicRoute(LimitPerClientAddress = true)]
    public async Task<IActionResult> Register(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = FunctionCatalog.Api + "/auth/register")] HttpRequest req,
        CancellationToken cancellationToken)
    {
        var (body, problem) = await RequestBody.ReadAsync<RegisterRequest>(req, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var v = new Validation();
        var name = v.Text("name", body!.Name, 100, required: true);
        var email = v.Text("email", body.Email, 254, required: true);
        if (email is { Length: > 0 } && !IsEmail(email))
        {
            v.Add("email", "'email' must be an email address.");
        }

        if (!v.IsValid)
        {
            return v.Problem();
        }

        var key = ApiKeys.NewKey();
        var account = new Account(Ids.NewAccountId(), name!, email!, options.Value.TrialRuns, clock.GetUtcNow());
        if (!await accounts.TryCreateAsync(account, keys.Hash(key), cancellationToken))
        {
            return Problems.Conflict("An account with this email is already registered.");
        }

        await runs.StartCountingAsync(account.AccountId, cancellationToken);
        log.LogInformation("Account {AccountId} registered", account.AccountId);
        return ApiResult.Created(
            new RegisteredView(account.AccountId, account.Name, account.Email, key, account.TrialRunsRemaining, account.CreatedAt),
            $"{FunctionCatalog.ApiBase}/accounts/{account.AccountId}").NoStore();
    }

    static bool IsEmail(string email) =>
        MailAddress.TryCreate(email, out var address) && address.Address == email && email.Contains('.', StringComparison.Ordinal);
}
