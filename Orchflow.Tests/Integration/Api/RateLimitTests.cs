using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// The public docs' 429 over real HTTP: a bucket per API key and one per client address on registration, shared
/// through storage by two hosts, with Retry-After and the RateLimit headers; one key's flood leaves another alone.
/// </summary>
[TestFixture]
public sealed class RateLimitTests : HostedTests
{
    const int PerMinute = 60;
    const int Burst = 10;
    const int RegisterPerMinute = 3;
    const int FailedAuthPerMinute = 6;

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__RateLimit__PerMinute"] = PerMinute.ToString(),
        ["Orchflow__RateLimit__Burst"] = Burst.ToString(),
        ["Orchflow__RateLimit__RegisterPerMinute"] = RegisterPerMinute.ToString(),
        ["Orchflow__RateLimit__FailedAuthPerMinute"] = FailedAuthPerMinute.ToString(),
        // Registrations below say where they come from, as a proxy in front of the app would.
        ["Orchflow__RateLimit__ClientAddressHeader"] = "X-Forwarded-For",
    };

    readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(30) };
    int addresses;

    [OneTimeTearDown]
    public void DisposeClient() => http.Dispose();

    [Test]
    public async Task Flood_OverTheBurst_Gets429WithRetryAfterAndRateLimitHeaders()
    {
        var key = await RegisterAsync(NextAddress());

        var (answers, took) = await TimedAsync(() => FloodAsync(Host.BaseAddress, key, 30));

        var limited = answers.Where(a => a.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.That(answers.Count(a => a.Status == HttpStatusCode.OK), Is.InRange(Burst, Burst + RefilledWithin(took) + 1),
            "the burst, what refilled while the flood ran, and one batch this instance claimed ahead");
        Assert.That(limited, Is.Not.Empty);
        var first = limited[0];
        Assert.Multiple(() =>
        {
            Assert.That(first.ContentType, Is.EqualTo("application/problem+json"));
            Assert.That(first.Body?["code"]?.GetValue<string>(), Is.EqualTo("rate_limited"));
            Assert.That(first.Body?["status"]?.GetValue<int>(), Is.EqualTo(429));
            Assert.That(first.Header("Retry-After"), Does.Match("^[1-9][0-9]*$"), "whole seconds, at least 1");
            Assert.That(first.Header("RateLimit-Policy"), Is.EqualTo($"\"per-key\";q={PerMinute};w=60"));
            Assert.That(first.Header("RateLimit"), Does.Match("^\"per-key\";r=0;t=[0-9]+$"));
        });
    }

    [Test]
    public async Task Limited_AfterRetryAfter_PassesAgain()
    {
        var key = await RegisterAsync(NextAddress());
        var limited = (await FloodAsync(Host.BaseAddress, key, Burst + 5)).First(a => a.Status == HttpStatusCode.TooManyRequests);

        // Waiting out Retry-After is the client's side of the contract under test, not a wait for the server to settle.
        await Task.Delay(TimeSpan.FromSeconds(int.Parse(limited.Header("Retry-After")!)));
        var again = await SendAsync(HttpMethod.Get, Host.BaseAddress, "runs", key);

        Assert.That(again.Status, Is.EqualTo(HttpStatusCode.OK), again.Text);
    }

    [Test]
    public async Task FloodFromOneKey_AnotherKey_IsNotLimitedAndSpendsOnlyItsOwnTokens()
    {
        var flooder = await RegisterAsync(NextAddress());
        var other = await RegisterAsync(NextAddress());
        var before = await SendAsync(HttpMethod.Get, Host.BaseAddress, "runs", other);

        var flood = FloodAsync(Host.BaseAddress, flooder, 300);
        var during = new List<Answer>();
        for (var i = 0; i < 3; i++)
        {
            during.Add(await SendAsync(HttpMethod.Get, Host.BaseAddress, "runs", other));
        }

        var flooded = await flood;

        Assert.Multiple(() =>
        {
            Assert.That(flooded.Count(a => a.Status == HttpStatusCode.TooManyRequests), Is.GreaterThan(250), "precondition: the flood was limited");
            Assert.That(during.Select(a => a.Status), Is.All.EqualTo(HttpStatusCode.OK), "the other key is not limited");
            // Its own bucket: each of its requests spends one of its tokens (a refill may add some), none of the flood's.
            Assert.That(Remaining(before), Is.EqualTo(Burst - 1));
            Assert.That(during.Select(Remaining), Is.All.GreaterThanOrEqualTo(Burst - 1 - during.Count));
        });
    }

    [Test]
    public async Task Success_CarriesRateLimitHeadersWithWhatRemains()
    {
        var key = await RegisterAsync(NextAddress());

        var first = await SendAsync(HttpMethod.Get, Host.BaseAddress, "runs", key);
        var second = await SendAsync(HttpMethod.Get, Host.BaseAddress, "runs", key);

        Assert.Multiple(() =>
        {
            Assert.That(first.Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(first.Header("RateLimit-Policy"), Is.EqualTo($"\"per-key\";q={PerMinute};w=60"));
            Assert.That(first.Header("RateLimit"), Does.Match("^\"per-key\";r=[0-9]+;t=[0-9]+$"));
            Assert.That(Remaining(second), Is.LessThan(Remaining(first)), "each request spends a token");
            Assert.That(first.Header("Retry-After"), Is.Null);
        });
    }

    [Test]
    public async Task Register_BeyondTheLimitFromOneAddress_Gets429WhileAnotherAddressRegisters()
    {
        var address = NextAddress();
        var answers = new List<Answer>();
        for (var i = 0; i < RegisterPerMinute + 2; i++)
        {
            answers.Add(await RegisterRawAsync(address));
        }

        var elsewhere = await RegisterRawAsync(NextAddress());

        Assert.Multiple(() =>
        {
            Assert.That(answers.Take(RegisterPerMinute).Select(a => a.Status), Is.All.EqualTo(HttpStatusCode.Created));
            Assert.That(answers.Skip(RegisterPerMinute).Select(a => a.Status), Is.All.EqualTo(HttpStatusCode.TooManyRequests));
            Assert.That(answers[^1].Body?["code"]?.GetValue<string>(), Is.EqualTo("rate_limited"));
            Assert.That(answers[^1].Header("RateLimit-Policy"), Is.EqualTo($"\"per-address\";q={RegisterPerMinute};w=60"));
            Assert.That(answers[^1].Header("Retry-After"), Does.Match("^[1-9][0-9]*$"));
            Assert.That(elsewhere.Status, Is.EqualTo(HttpStatusCode.Created), "another address has its own bucket");
        });
    }

    [Test]
    public async Task Register_ForgedAddressesLeftOfTheProxys_ShareTheRealAddressBucket()
    {
        // A client may send its own X-Forwarded-For; the proxy appends the real address, which is what counts.
        var real = NextAddress();
        var answers = new List<Answer>();
        for (var i = 0; i < RegisterPerMinute + 1; i++)
        {
            answers.Add(await RegisterRawAsync($"198.51.100.{i + 1}, {real}"));
        }

        Assert.That(answers[^1].Status, Is.EqualTo(HttpStatusCode.TooManyRequests));
    }

    [Test]
    public async Task Register_ManyAddressesOfOneIpv6Slash64_ShareOneBucket()
    {
        // One subscriber is given a whole /64: every address in it is the same caller.
        var network = $"2a01:4f8:{Interlocked.Increment(ref addresses):x}:7";
        var answers = new List<Answer>();
        for (var i = 0; i < RegisterPerMinute + 1; i++)
        {
            answers.Add(await RegisterRawAsync($"{network}::{i + 1:x}"));
        }

        var nextNetwork = await RegisterRawAsync($"2a01:4f8:{Interlocked.Increment(ref addresses):x}:7::1");

        Assert.Multiple(() =>
        {
            Assert.That(answers.Take(RegisterPerMinute).Select(a => a.Status), Is.All.EqualTo(HttpStatusCode.Created));
            Assert.That(answers[^1].Status, Is.EqualTo(HttpStatusCode.TooManyRequests), "a new address of the same /64 is the same caller");
            Assert.That(nextNetwork.Status, Is.EqualTo(HttpStatusCode.Created), "another /64 has its own bucket");
        });
    }

    [Test]
    public async Task Health_IsNeverLimited()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => SendAsync(HttpMethod.Get, Host.BaseAddress, "health", null)));

        Assert.That(answers.Select(a => a.Status), Is.All.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task UnknownKey_Gets401_NotCounted()
    {
        var answers = await FloodAsync(Host.BaseAddress, "orch_" + new string('x', 43), 20);

        Assert.That(answers.Select(a => a.Status), Is.All.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task TwoHostsSharingStorage_FloodSplitOverBoth_AdmitAboutOneBucket()
    {
        var second = await TestHosts.StartAsync(new Dictionary<string, string>(HostSettings)
        {
            [OrchflowHost.TablePrefixSetting] = Host.TablePrefix,
        });
        try
        {
            var key = await RegisterAsync(NextAddress());

            var (answers, took) = await TimedAsync(() => Task.WhenAll(Enumerable.Range(0, 60)
                .Select(i => SendAsync(HttpMethod.Get, i % 2 == 0 ? Host.BaseAddress : second.BaseAddress, "runs", key))));

            var admitted = answers.Count(a => a.Status == HttpStatusCode.OK);
            Assert.Multiple(() =>
            {
                Assert.That(answers.Select(a => a.Status), Is.All.AnyOf(HttpStatusCode.OK, HttpStatusCode.TooManyRequests));
                // One bucket between them, what refilled while the flood ran, and a batch (one token at this burst) per instance.
                Assert.That(admitted, Is.InRange(Burst, Burst + RefilledWithin(took) + 2));
            });
        }
        finally
        {
            await TestHosts.EndAsync(second);
        }
    }

    /// <summary>
    /// Tokens the key's bucket can have gained in <paramref name="elapsed"/>: an upper bound that grows with the time the
    /// requests took, so a slow machine widens it instead of failing it. The exact counts are the token bucket's unit
    /// tests, on a clock they move.
    /// </summary>
    static int RefilledWithin(TimeSpan elapsed) => (int)Math.Ceiling(elapsed.TotalMinutes * PerMinute);

    static async Task<(T Result, TimeSpan Took)> TimedAsync<T>(Func<Task<T>> work)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await work();
        return (result, clock.Elapsed);
    }

    [Test]
    public async Task Limited_IsHeldForThePauseBeforeItIsSent()
    {
        var key = await RegisterAsync(NextAddress());

        var answers = await Task.WhenAll(Enumerable.Range(0, 2 * Burst).Select(_ => TimedAsync(() => SendAsync(HttpMethod.Get, Host.BaseAddress, "runs", key))));
        var limited = answers.Where(a => a.Result.Status == HttpStatusCode.TooManyRequests).ToList();

        Assert.That(limited, Is.Not.Empty);
        Assert.That(limited.Select(a => a.Took), Is.All.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(950)),
            "a refusal costs a flooding client a second of its connection (RefusalPauseMs, 1000 by default)");
    }

    [Test]
    public async Task InventedKeys_FromOneAddress_Get429PastTheLimitWhileWorkingKeysStillPass()
    {
        var attacker = NextAddress();
        var neighbourKey = await RegisterAsync(NextAddress());
        var sharedKey = await RegisterAsync(NextAddress());
        var forwarded = ("X-Forwarded-For", attacker);
        Assert.That((await SendAsync(HttpMethod.Get, Host.BaseAddress, "runs", sharedKey, header: forwarded)).Status, Is.EqualTo(HttpStatusCode.OK),
            "a caller with a working key behind the attacker's address");

        Task<Answer> Invented() => SendAsync(HttpMethod.Get, Host.BaseAddress, "runs", $"orch_{Guid.NewGuid():N}{Guid.NewGuid():N}"[..48], header: forwarded);
        var flood = new List<Answer>();
        for (var i = 0; i < FailedAuthPerMinute; i++)
        {
            flood.Add(await Invented());
        }

        // The rest at once: each refusal is held for the refusal pause.
        flood.AddRange(await Task.WhenAll(Enumerable.Range(0, 2 * FailedAuthPerMinute).Select(_ => Invented())));

        var sameAddress = await SendAsync(HttpMethod.Get, Host.BaseAddress, "runs", sharedKey, header: forwarded);
        var elsewhere = await SendAsync(HttpMethod.Get, Host.BaseAddress, "runs", neighbourKey, header: ("X-Forwarded-For", NextAddress()));
        var limited = flood.Where(a => a.Status == HttpStatusCode.TooManyRequests).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(flood.Take(FailedAuthPerMinute).Select(a => a.Status), Is.All.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(limited, Has.Count.GreaterThanOrEqualTo(2 * FailedAuthPerMinute - 1), "past the limit, refused before any lookup");
            Assert.That(limited[0].ContentType, Is.EqualTo("application/problem+json"));
            Assert.That(limited[0].Body?["code"]?.GetValue<string>(), Is.EqualTo("rate_limited"));
            Assert.That(limited[0].Header("Retry-After"), Does.Match("^[1-9][0-9]*$"));
            Assert.That(sameAddress.Status, Is.EqualTo(HttpStatusCode.OK), "a key the instance knows is not held back by its neighbour's flood");
            Assert.That(elsewhere.Status, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    /// <summary>A public address (a proxy skips documentation and private ranges as its own hops), new for each call.</summary>
    string NextAddress() => $"81.2.69.{Interlocked.Increment(ref addresses)}";

    async Task<string> RegisterAsync(string address)
    {
        var answer = await RegisterRawAsync(address);
        Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.Created), answer.Text);
        return answer.Body!["api_key"]!.GetValue<string>();
    }

    Task<Answer> RegisterRawAsync(string forwardedFor) =>
        SendAsync(HttpMethod.Post, Host.BaseAddress, "auth/register", null,
            new { name = "Limited", email = $"{Guid.NewGuid():N}@example.com" }, ("X-Forwarded-For", forwardedFor));

    Task<Answer[]> FloodAsync(Uri baseAddress, string key, int requests) =>
        Task.WhenAll(Enumerable.Range(0, requests).Select(_ => SendAsync(HttpMethod.Get, baseAddress, "runs", key)));

    static int Remaining(Answer answer) =>
        int.Parse(answer.Header("RateLimit")!.Split(';').Single(p => p.StartsWith("r=", StringComparison.Ordinal))[2..]);

    async Task<Answer> SendAsync(HttpMethod method, Uri baseAddress, string path, string? key, object? body = null, (string Name, string Value)? header = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(baseAddress, path));
        if (key is not null)
        {
            request.Headers.Add("X-API-Key", key);
        }

        if (header is { } h)
        {
            request.Headers.Add(h.Name, h.Value);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var headers = response.Headers.Concat(response.Content.Headers).ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
        return new Answer(response.StatusCode, text, text.Length > 0 && text[0] == '{' ? JsonNode.Parse(text) : null,
            response.Content.Headers.ContentType?.MediaType, headers);
    }

    sealed record Answer(HttpStatusCode Status, string Text, JsonNode? Body, string? ContentType, IReadOnlyDictionary<string, string> Headers)
    {
        public string? Header(string name) => Headers.GetValueOrDefault(name);
    }

    [Test]
    public async Task McpFlood_OverTheBurst_Gets429LikeAnyRoute()
    {
        var key = await RegisterAsync(NextAddress());
        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < Burst + 10; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{Host.Port}/mcp")
            {
                Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"ping"}""", System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Accept", "application/json, text/event-stream");
            request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
            request.Headers.Add("Authorization", "Bearer " + key);
            answers.Add(await http.SendAsync(request));
        }

        var limited = answers.FirstOrDefault(a => a.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.Multiple(() =>
        {
            Assert.That(answers.Count(a => a.StatusCode == HttpStatusCode.OK), Is.GreaterThanOrEqualTo(Burst), "the burst passes");
            Assert.That(limited, Is.Not.Null, "the key's bucket limits /mcp as every route");
            Assert.That(limited?.Headers.RetryAfter?.Delta, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)));
            Assert.That(limited?.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        });
        answers.ForEach(a => a.Dispose());
    }
}
