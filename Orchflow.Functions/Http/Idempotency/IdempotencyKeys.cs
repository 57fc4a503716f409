using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Orchflow.Abstractions;

namespace Orchflow.Functions.Http.Idempotency;

/// <summary>
/// <c>Idempotency-Key</c> (IETF httpapi draft): the first request with a key, per account, is done and its answer kept
/// for a day; the same request again gets that answer with <c>Idempotent-Replayed: true</c>; another request with the
/// key gets 422, and one sent while the first is still being handled 409. A request that fails on Orchflow's side (5xx),
/// or is refused only until the account makes room (<see cref="ApiResult.Kept"/>), gives its key back, so the client's
/// retry is done afresh.
/// </summary>
public sealed class IdempotencyKeys(IIdempotencyStore store)
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxLength = 255;

    /// <summary>
    /// Runs <paramref name="invoke"/> under the request's key, if it sent one; returns what to send (a replay or a
    /// refusal without invoking anything, or the function's own answer).
    /// </summary>
    public async Task<IActionResult?> RunAsync(HttpContext http, Func<Task<IActionResult?>> invoke)
    {
        var values = http.Request.Headers[Header];
        if (values.Count == 0)
        {
            return await invoke();
        }

        var key = values.Count == 1 ? values[0] : null;
        if (key is null || key.Length is 0 or > MaxLength || key.Any(c => c is < ' ' or > '~'))
        {
            return Problems.Validation(Header, $"'{Header}' must be one value of 1 to {MaxLength} printable ASCII characters.");
        }

        if (await FingerprintAsync(http.Request) is not { } fingerprint)
        {
            // Over the body limit: the function refuses it (413) and nothing is done, so nothing needs replaying.
            return await invoke();
        }

        var caller = ApiKeyAuthenticator.CallerOf(http.Request);
        var claim = await store.ClaimAsync(caller.AccountId, key, fingerprint, http.RequestAborted);
        switch (claim.Outcome)
        {
            case IdempotencyOutcome.Replay:
                return new StoredResult(claim.Response!);
            case IdempotencyOutcome.Mismatch:
                return Problems.IdempotencyMismatch();
            case IdempotencyOutcome.InProgress:
                return Problems.IdempotencyInProgress();
        }

        IActionResult? result;
        try
        {
            result = await invoke();
        }
        catch (Exception)
        {
            // Failed on Orchflow's side: the key goes back before the pipeline answers 500, so a retry is done afresh.
            await store.ReleaseAsync(claim, CancellationToken.None);
            throw;
        }

        if (result is ApiResult { Status: < 500, Kept: true } answer)
        {
            await store.CompleteAsync(claim, Stored(answer), CancellationToken.None);
        }
        else
        {
            await store.ReleaseAsync(claim, CancellationToken.None);
        }

        return result;
    }

    /// <summary>
    /// What makes two requests the same: method, path and body bytes. The body is buffered so the function can still
    /// read it; null when it is over the limit.
    /// </summary>
    static async Task<string?> FingerprintAsync(HttpRequest request)
    {
        request.EnableBuffering(RequestBody.MaxBytes + 1);
        using var body = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (body.Length + read > RequestBody.MaxBytes)
            {
                request.Body.Position = 0;
                return null;
            }

            body.Write(chunk, 0, read);
        }

        request.Body.Position = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method} {request.Path}\n"));
        hash.AppendData(body.GetBuffer(), 0, (int)body.Length);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    static StoredResponse Stored(ApiResult answer)
    {
        var kept = answer.Headers.Where(h => h.Key is "Location" or "Cache-Control" or "ETag").ToDictionary(h => h.Key, h => h.Value);
        return new StoredResponse(
            answer.Status,
            answer.ContentType,
            answer.Body is null ? null : JsonSerializer.Serialize(answer.Body, answer.Body.GetType(), ApiJson.Options),
            kept,
            // A response marked no-store carries a secret shown once: it is kept in the secret store, not in a table.
            HoldsSecret: kept.TryGetValue("Cache-Control", out var cache) && cache.Contains("no-store", StringComparison.Ordinal));
    }

    /// <summary>A kept answer, sent again as it was, marked as a replay.</summary>
    sealed class StoredResult(StoredResponse response) : IActionResult
    {
        public async Task ExecuteResultAsync(ActionContext context)
        {
            var http = context.HttpContext.Response;
            http.StatusCode = response.Status;
            http.Headers["X-Content-Type-Options"] = "nosniff";
            foreach (var (name, value) in response.Headers)
            {
                http.Headers[name] = value;
            }

            http.Headers[ReplayedHeader] = "true";
            if (response.Body is not null)
            {
                http.ContentType = (response.ContentType ?? "application/json") + "; charset=utf-8";
                await http.WriteAsync(response.Body, Encoding.UTF8, context.HttpContext.RequestAborted);
            }
        }
    }
}
