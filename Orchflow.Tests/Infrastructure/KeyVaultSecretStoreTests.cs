using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using Orchflow.Infrastructure.Secrets;

namespace Orchflow.Tests.Infrastructure;

/// <summary>
/// The Key Vault secret store through a real <see cref="SecretClient"/>, against an in-memory vault that speaks the
/// Key Vault REST protocol, challenge authentication included.
/// </summary>
[TestFixture]
public sealed class KeyVaultSecretStoreTests
{
    const string Token = "fake-vault-access-token";

    FakeKeyVault vault = null!;
    FakeCredential credential = null!;
    HttpClient http = null!;
    KeyVaultSecretStore store = null!;
    RecordingLogger log = null!;

    [SetUp]
    public void CreateStore()
    {
        // The SDK caches a vault's challenge per host for the whole process; a host per test makes each test see it.
        var vaultUri = new Uri($"https://orchflow-test-{Guid.NewGuid().ToString("N")[..8]}.vault.azure.net/");
        vault = new FakeKeyVault(vaultUri, Token);
        credential = new FakeCredential(Token);
        http = new HttpClient(vault);
        var options = new SecretClientOptions { Transport = new HttpClientTransport(http) };
        options.Retry.MaxRetries = 0;
        log = new RecordingLogger();
        store = new KeyVaultSecretStore(new SecretClient(vaultUri, credential, options), log);
    }

    [TearDown]
    public void DisposeClient() => http.Dispose();

    [Test]
    public async Task SetAsync_ThenGetAsync_ReturnsTheValue()
    {
        var name = NewName();
        const string value = "sk-test-Ünïcode-€-😀-\"quoted\"-1234567890";

        await store.SetAsync(name, value, CancellationToken.None);

        Assert.That(await store.GetAsync(name, CancellationToken.None), Is.EqualTo(value));
    }

    [Test]
    public async Task SetGetDelete_SendsTheKeyVaultRequestsWithTheBearerToken()
    {
        var name = NewName();
        var value = "sk-live-" + Guid.NewGuid().ToString("N");

        await store.SetAsync(name, value, CancellationToken.None);
        await store.GetAsync(name, CancellationToken.None);
        await store.DeleteAsync(name, CancellationToken.None);

        var requests = vault.Requests.ToList();
        Assert.That(
            requests.Select(r => $"{r.Method} {r.Path.TrimEnd('/')} {(r.Authorization is null ? "anonymous" : "bearer")} -> {r.Status}"),
            Is.EqualTo(new[]
            {
                // The challenge: the first request goes without credentials and without its body.
                $"PUT /secrets/{name} anonymous -> 401",
                $"PUT /secrets/{name} bearer -> 200",
                $"GET /secrets/{name} bearer -> 200",
                $"DELETE /secrets/{name} bearer -> 200",
                // Waiting for the soft delete to complete, then purging what it keeps.
                $"GET /deletedsecrets/{name} bearer -> 200",
                $"DELETE /deletedsecrets/{name} bearer -> 204",
            }));
        Assert.Multiple(() =>
        {
            Assert.That(requests.Where(r => r.Authorization is not null).Select(r => r.Authorization), Is.All.EqualTo($"Bearer {Token}"));
            Assert.That(requests.Select(r => r.ApiVersion), Is.All.Not.Null.And.Not.Empty, "api-version on every request");
            Assert.That(requests[0].Body, Is.Empty, "nothing is sent before the vault has been authenticated to");
            Assert.That(JsonNode.Parse(requests[1].Body)!["value"]!.GetValue<string>(), Is.EqualTo(value));
            Assert.That(requests.Where((_, i) => i != 1).Select(r => r.Body), Has.None.Contains(value), "the value only in the PUT body");
            Assert.That(requests.Select(r => r.Uri), Has.None.Contains(value), "the value never in a URL");
            Assert.That(requests.SelectMany(r => r.Headers), Has.None.Contains(value), "the value never in a header");
            Assert.That(credential.Requests, Is.Not.Empty, "a token was asked for");
            Assert.That(credential.Requests.Select(c => string.Join(" ", c.Scopes)), Is.All.EqualTo("https://vault.azure.net/.default"));
            Assert.That(credential.Requests.Select(c => c.TenantId), Is.All.EqualTo("tenant-id"));
        });
    }

    [Test]
    public async Task GetAsync_AbsentSecret_ReturnsNull()
    {
        var name = NewName();

        Assert.That(await store.GetAsync(name, CancellationToken.None), Is.Null);
        Assert.That(vault.Requests.Last().Status, Is.EqualTo(404), "precondition: the vault answered 404");
    }

    [Test]
    public async Task DeleteAsync_ThenGetAsync_ReturnsNullAndNothingIsLeftToRecover()
    {
        var name = NewName();
        await store.SetAsync(name, "to be deleted", CancellationToken.None);

        await store.DeleteAsync(name, CancellationToken.None);

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(vault.Contains(name), Is.False, "the vault no longer holds it");
            Assert.That(vault.HoldsDeleted(name), Is.False, "nor keeps it recoverable: it was purged");
            Assert.That(await store.GetAsync(name, CancellationToken.None), Is.Null);
            Assert.That(log.Entries, Is.Empty);
        });
    }

    [Test]
    public async Task DeleteAsync_AbsentSecret_DoesNotThrow()
    {
        var name = NewName();

        await store.DeleteAsync(name, CancellationToken.None);

        Assert.That(vault.Requests.Select(r => $"{r.Method} {r.Path} -> {r.Status}").TakeLast(2), Is.EqualTo(new[]
        {
            $"DELETE /secrets/{name} -> 404",
            $"DELETE /deletedsecrets/{name} -> 404",
        }));
    }

    [Test]
    public async Task DeleteAsync_SecretDeletedEarlierButNotPurged_PurgesIt()
    {
        var name = NewName();
        await store.SetAsync(name, "deleted by a pass cut short", CancellationToken.None);
        vault.RefusePurgeWith = HttpStatusCode.Conflict;
        await store.DeleteAsync(name, CancellationToken.None);
        Assert.That(vault.HoldsDeleted(name), Is.True, "precondition: deleted, still recoverable");
        vault.RefusePurgeWith = null;

        await store.DeleteAsync(name, CancellationToken.None);

        Assert.That(vault.HoldsDeleted(name), Is.False);
    }

    [Test]
    public async Task DeleteAsync_VaultRefusesPurge_DeletesEverySecretAndLogsTheRefusalOnce(
        [Values(HttpStatusCode.Forbidden, HttpStatusCode.Conflict)] HttpStatusCode refusal)
    {
        var names = new[] { NewName(), NewName(), NewName() };
        foreach (var name in names)
        {
            await store.SetAsync(name, "protected vault", CancellationToken.None);
        }

        vault.RefusePurgeWith = refusal;

        foreach (var name in names)
        {
            await store.DeleteAsync(name, CancellationToken.None);
        }

        Assert.Multiple(() =>
        {
            Assert.That(vault.Requests.Count(r => r.Method == "DELETE" && r.Path.StartsWith("/deletedsecrets/") && r.Status == (int)refusal),
                Is.EqualTo(names.Length), "a purge was asked for each");
            Assert.That(names.Select(vault.Contains), Is.All.False, "each secret is deleted");
            Assert.That(names.Select(vault.HoldsDeleted), Is.All.True, "and kept by the vault until its retention ends");
            Assert.That(log.Entries, Has.Count.EqualTo(1));
            Assert.That(log.Entries[0], Does.StartWith("Warning: Key Vault refused to purge").And.Contain(((int)refusal).ToString()));
        });
    }

    [Test]
    public async Task DeleteAsync_PurgeFailsOtherwise_ThrowsNamingThePurge()
    {
        var name = NewName();
        await store.SetAsync(name, "value", CancellationToken.None);
        vault.RefusePurgeWith = HttpStatusCode.InternalServerError;

        var e = Assert.ThrowsAsync<InvalidOperationException>(() => store.DeleteAsync(name, CancellationToken.None));

        Assert.That(e!.Message, Does.Contain("purge").And.Contain("500").And.Contain(name));
    }

    [Test]
    public async Task SetAsync_SameNameTwice_KeepsTheLatestValue()
    {
        var name = NewName();
        await store.SetAsync(name, "first", CancellationToken.None);

        await store.SetAsync(name, "second", CancellationToken.None);

        Assert.That(await store.GetAsync(name, CancellationToken.None), Is.EqualTo("second"));
    }

    [Test]
    public async Task AnyOperation_VaultFails_ThrowsNamingKeyVaultAndTheStatusButNotTheValue(
        [Values("set", "get", "delete")] string operation,
        [Values(HttpStatusCode.Forbidden, HttpStatusCode.InternalServerError)] HttpStatusCode status)
    {
        var name = NewName();
        var value = "sk-live-" + Guid.NewGuid().ToString("N");
        await store.SetAsync(name, value, CancellationToken.None);
        vault.FailWith = status;

        var e = Assert.ThrowsAsync<InvalidOperationException>(() => operation switch
        {
            "set" => store.SetAsync(name, value, CancellationToken.None),
            "get" => store.GetAsync(name, CancellationToken.None),
            _ => store.DeleteAsync(name, CancellationToken.None),
        });

        Assert.That(vault.Requests.Last().Status, Is.EqualTo((int)status), "precondition: the vault answered with the failure");
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.Contain("Key Vault").And.Contain(((int)status).ToString()).And.Contain(name));
            Assert.That(e.ToString(), Does.Not.Contain(value), "neither the message nor the inner exception holds the value");
        });
    }

    [TestCase("")]
    [TestCase("provider/acc-1")]
    [TestCase("provider_acc_1")]
    [TestCase("provider-acc-1?api-version=1")]
    public void SetAsync_NameKeyVaultDoesNotAllow_ThrowsBeforeAnyRequest(string name)
    {
        Assert.ThrowsAsync(Is.InstanceOf<ArgumentException>(), () => store.SetAsync(name, "value", CancellationToken.None));
        Assert.That(vault.Requests, Is.Empty);
    }

    static string NewName() => $"provider-acc-{Guid.NewGuid():N}-prv-{Guid.NewGuid():N}";

    /// <summary>One request the fake vault received, and the status it answered with.</summary>
    sealed record Recorded(string Method, string Uri, string Path, string? ApiVersion, string? Authorization, IReadOnlyList<string> Headers, string Body)
    {
        public int Status { get; set; }
    }

    /// <summary>
    /// Key Vault's secrets REST protocol in memory: the bearer challenge, set (PUT), get (GET, latest version), delete
    /// (DELETE, returning the deleted-secret bundle and keeping the secret soft-deleted), the deleted secret's read and
    /// purge, with the vault's 404 body for an absent secret.
    /// </summary>
    sealed class FakeKeyVault(Uri vaultUri, string token) : HttpMessageHandler
    {
        const string Challenge = "Bearer authorization=\"https://login.microsoftonline.com/tenant-id\", resource=\"https://vault.azure.net\"";

        readonly ConcurrentDictionary<string, (string Value, string Version)> secrets = new();
        readonly ConcurrentDictionary<string, (string Value, string Version)> deleted = new();
        readonly ConcurrentQueue<Recorded> requests = new();

        public IReadOnlyCollection<Recorded> Requests => requests;

        /// <summary>When set, every authenticated request is answered with this status.</summary>
        public HttpStatusCode? FailWith { get; set; }

        /// <summary>When set, a purge is answered with this status, as a vault with purge protection answers it.</summary>
        public HttpStatusCode? RefusePurgeWith { get; set; }

        public bool Contains(string name) => secrets.ContainsKey(name);

        /// <summary>Whether the vault keeps the secret deleted but recoverable.</summary>
        public bool HoldsDeleted(string name) => deleted.ContainsKey(name);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var uri = request.RequestUri!;
            var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
            var recorded = new Recorded(
                request.Method.Method,
                uri.ToString(),
                uri.AbsolutePath,
                System.Web.HttpUtility.ParseQueryString(uri.Query)["api-version"],
                request.Headers.Authorization?.ToString(),
                request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
                    .SelectMany(h => h.Value.Select(v => $"{h.Key}: {v}"))
                    .ToList(),
                body);
            requests.Enqueue(recorded);

            var response = Answer(request, recorded);
            recorded.Status = (int)response.StatusCode;
            return response;
        }

        HttpResponseMessage Answer(HttpRequestMessage request, Recorded r)
        {
            if (r.Authorization != $"Bearer {token}")
            {
                var challenge = Error(HttpStatusCode.Unauthorized, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.");
                challenge.Headers.TryAddWithoutValidation("WWW-Authenticate", Challenge);
                return challenge;
            }

            if (FailWith is { } failure)
            {
                return failure == HttpStatusCode.Forbidden
                    ? Error(failure, "Forbidden", "Caller is not authorized to perform action on resource.")
                    : Error(failure, "InternalServerError", "The service encountered an internal error.");
            }

            var segments = r.Path.Trim('/').Split('/');
            if (request.RequestUri!.Host != vaultUri.Host || segments is not [var collection and ("secrets" or "deletedsecrets"), var name, ..] ||
                segments.Length > 3)
            {
                return Error(HttpStatusCode.BadRequest, "BadParameter", "Unexpected request.");
            }

            return collection == "secrets" ? AnswerSecret(r, name) : AnswerDeleted(r, name);
        }

        HttpResponseMessage AnswerSecret(Recorded r, string name)
        {
            switch (r.Method)
            {
                case "PUT" when deleted.ContainsKey(name):
                    return Error(HttpStatusCode.Conflict, "Conflict", $"Secret {name} is currently in a deleted but recoverable state.");
                case "PUT":
                    var value = JsonNode.Parse(r.Body)!["value"]!.GetValue<string>();
                    var version = Guid.NewGuid().ToString("N");
                    secrets[name] = (value, version);
                    return Json(HttpStatusCode.OK, Bundle(name, value, version));
                case "GET" when secrets.TryGetValue(name, out var secret):
                    return Json(HttpStatusCode.OK, Bundle(name, secret.Value, secret.Version));
                case "DELETE" when secrets.TryRemove(name, out var removed):
                    deleted[name] = removed;
                    return Json(HttpStatusCode.OK, DeletedBundle(name, removed.Version));
                case "GET" or "DELETE":
                    return Error(HttpStatusCode.NotFound, "SecretNotFound", $"A secret with (name/id) {name} was not found in this key vault.");
                default:
                    return Error(HttpStatusCode.MethodNotAllowed, "BadParameter", "Unexpected method.");
            }
        }

        /// <summary>Soft-deleted secrets: read (what the SDK polls while a deletion completes) and purge.</summary>
        HttpResponseMessage AnswerDeleted(Recorded r, string name)
        {
            switch (r.Method)
            {
                case "GET" when deleted.TryGetValue(name, out var secret):
                    return Json(HttpStatusCode.OK, DeletedBundle(name, secret.Version));
                case "DELETE" when RefusePurgeWith is { } refusal && deleted.ContainsKey(name):
                    return Error(refusal, refusal.ToString(),
                        "Operation \"purge\" is not allowed because purge protection is enabled for this vault.");
                case "DELETE" when deleted.TryRemove(name, out _):
                    return new HttpResponseMessage(HttpStatusCode.NoContent);
                case "GET" or "DELETE":
                    return Error(HttpStatusCode.NotFound, "SecretNotFound", $"Deleted Secret not found: {name}");
                default:
                    return Error(HttpStatusCode.MethodNotAllowed, "BadParameter", "Unexpected method.");
            }
        }

        JsonObject DeletedBundle(string name, string version)
        {
            var bundle = Bundle(name, null, version);
            bundle["recoveryId"] = new Uri(vaultUri, $"deletedsecrets/{name}").ToString();
            bundle["deletedDate"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            bundle["scheduledPurgeDate"] = DateTimeOffset.UtcNow.AddDays(90).ToUnixTimeSeconds();
            return bundle;
        }

        JsonObject Bundle(string name, string? value, string version)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var bundle = new JsonObject
            {
                ["id"] = new Uri(vaultUri, $"secrets/{name}/{version}").ToString(),
                ["attributes"] = new JsonObject
                {
                    ["enabled"] = true,
                    ["created"] = now,
                    ["updated"] = now,
                    ["recoveryLevel"] = "Recoverable+Purgeable",
                    ["recoverableDays"] = 90,
                },
            };
            if (value is not null)
            {
                bundle["value"] = value;
            }

            return bundle;
        }

        static HttpResponseMessage Error(HttpStatusCode status, string code, string message) =>
            Json(status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });

        static HttpResponseMessage Json(HttpStatusCode status, JsonNode content) =>
            new(status) { Content = new StringContent(content.ToJsonString(new JsonSerializerOptions()), Encoding.UTF8, "application/json") };
    }

    /// <summary>Hands out a fixed token and records what it was asked for.</summary>
    sealed class FakeCredential(string token) : TokenCredential
    {
        readonly ConcurrentQueue<TokenRequestContext> requests = new();

        public IReadOnlyCollection<TokenRequestContext> Requests => requests;

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            requests.Enqueue(requestContext);
            return new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(GetToken(requestContext, cancellationToken));
    }

    /// <summary>Keeps every entry logged as "Level: message".</summary>
    sealed class RecordingLogger : Microsoft.Extensions.Logging.ILogger<KeyVaultSecretStore>
    {
        public List<string> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state,
            Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add($"{logLevel}: {formatter(state, exception)}");
    }
}
