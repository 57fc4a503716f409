using System.Net.Mail;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Accounts;
using Orchflow.Domain;
using Orchflow.Erasure;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Http;

namespace Orchflow.Functions.Functions;

/// <summary>Registration, which creates an account and hands out its API key once, and the caller's own account: read or closed.</summary>
public sealed class AuthFunctions(
    IAccountStore accounts,
    IRunStore runs,
    ApiKeys keys,
    ApiKeyAuthenticator authenticator,
    DataEraser eraser,
    IOptions<AccountOptions> options,
    TimeProvider clock,
    ILogger<AuthFunctions> log)
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
        var firstKey = new ApiKeyRecord(account.AccountId, Ids.NewKeyId(), FirstKeyLabel, ApiKeys.Hint(key), account.CreatedAt);
        if (!await accounts.TryCreateAsync(account, firstKey, keys.Hash(key), cancellationToken))
        {
            return Problems.Conflict("An account with this email is already registered.");
        }

        await runs.StartCountingAsync(account.AccountId, cancellationToken);
        log.LogInformation("Account {AccountId} registered", account.AccountId);
        return ApiResult.Created(
            new RegisteredView(account.AccountId, account.Name, account.Email, key, account.TrialRunsRemaining, account.CreatedAt),
            AccountLocation).NoStore();
    }

    /// <summary>The label of the key registration issues, as GET /auth/keys lists it.</summary>
    public const string FirstKeyLabel = "Registration";

    /// <summary>Where a key's own account is read: the account a key belongs to needs no id in the path.</summary>
    public const string AccountLocation = FunctionCatalog.ApiBase + "/account";

    [Function(nameof(GetAccount))]
    public async Task<IActionResult> GetAccount(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionCatalog.Api + "/account")] HttpRequest req,
        CancellationToken cancellationToken)
    {
        // Read anew rather than taken from the authenticator, whose copy may be seconds old: the trial count moves.
        var account = await accounts.FindByKeyHashAsync(ApiKeyAuthenticator.KeyHashOf(req), cancellationToken)
                      ?? ApiKeyAuthenticator.CallerOf(req);
        return ApiResult.Ok(AccountView.Of(account)).NoStore();
    }

    [Function(nameof(CloseAccount))]
    public async Task<IActionResult> CloseAccount(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = FunctionCatalog.Api + "/account")] HttpRequest req,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        // The keys stop working now (here at once, on other instances within ApiKeyAuthenticator.RememberFor); the runs are
        // cancelled and everything is erased by the sweep, which finishes whatever a pass leaves.
        foreach (var hash in await eraser.CloseAccountAsync(caller.AccountId, cancellationToken))
        {
            authenticator.Forget(hash);
        }

        log.LogInformation("Account {AccountId} closed; its data is being erased", caller.AccountId);
        return ApiResult.AcceptedEmpty();
    }

    static bool IsEmail(string email) =>
        MailAddress.TryCreate(email, out var address) && address.Address == email && email.Contains('.', StringComparison.Ordinal);
}
