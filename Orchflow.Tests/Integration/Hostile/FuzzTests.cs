using System.Diagnostics;
using System.Globalization;
using System.Text;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>
/// A seeded campaign of thousands of malformed and hostile requests against one host at rest: no answer may be a
/// 5xx, every error must be problem details that show nothing of the server's insides, no request built with a
/// defect may succeed, and not one stored row (ETags included) may differ afterwards.
/// Replay a failure with <c>ORCHFLOW_FUZZ_SEED=&lt;seed&gt;</c>; <c>ORCHFLOW_FUZZ_COUNT</c> changes the number of requests.
/// </summary>
[TestFixture]
// Ahead of BoundaryTests on the default host they share: its runs keep human timeouts of 30 days queued, and this
// fixture must see the host come to rest.
[Order(2)]
public sealed class FuzzTests : HostedTests
{
    public const string SeedVariable = "ORCHFLOW_FUZZ_SEED";
    public const string CountVariable = "ORCHFLOW_FUZZ_COUNT";

    /// <summary>The campaign every run of the suite replays unless told otherwise; "random" picks a new one.</summary>
    const int DefaultSeed = 20251001;

    const int Senders = 6;
    const int ExamplesPerFinding = 3;

    [Test]
    public async Task Campaign_HostileRequestsOnEveryRoute_NoServerErrorNoAcceptedDefectNoStoredChange()
    {
        var seed = Seed();
        var count = int.TryParse(Environment.GetEnvironmentVariable(CountVariable), out var n) && n > 0 ? n : FuzzRequestGenerator.DefaultCount;
        await TestContext.Progress.WriteLineAsync($"Fuzz campaign: seed {seed}, {count} requests (replay with {SeedVariable}={seed}).");

        // One after the other: the seeding helpers assert, and NUnit's assertion scopes do not nest across concurrent tasks.
        var targets = new FuzzTargets(await RestingAccounts.SeedAsync(Host.BaseAddress), await RestingAccounts.SeedAsync(Host.BaseAddress));
        var connection = TestEnvironment.Azurite.ConnectionString;
        await TestHosts.WaitUntilAtRestAsync(Host);
        var before = await TableSnapshot.TakeAsync(connection, Host.TablePrefix);
        var requests = new FuzzRequestGenerator(seed, targets).Generate(count);

        var clock = Stopwatch.StartNew();
        var responses = await SendAllAsync(requests);
        clock.Stop();

        // Anything a request set going in the background (an orchestration woken by an accepted answer) has written
        // once the host has nothing left to do.
        await TestHosts.WaitUntilAtRestAsync(Host);
        var after = await TableSnapshot.TakeAsync(connection, Host.TablePrefix);
        var changes = after.ChangesSince(before);

        var findings = new List<(string Kind, FuzzRequest Request, RawResponse Response)>();
        var refused = 0;
        for (var i = 0; i < requests.Count; i++)
        {
            var verdicts = Judge(requests[i], responses[i], out var refusedByServer);
            refused += refusedByServer ? 1 : 0;
            findings.AddRange(verdicts.Select(v => (v, requests[i], responses[i])));
        }

        await TestContext.Out.WriteLineAsync(Summary(seed, requests, responses, clock.Elapsed, refused, before, findings.Count, changes.Count));
        Assert.Multiple(() =>
        {
            Assert.That(requests, Has.Count.GreaterThanOrEqualTo(Math.Min(count, 5000)));
            Assert.That(before.RowCount, Is.GreaterThan(20), "the snapshot read the seeded rows");
            Assert.That(findings, Is.Empty, Report(seed, findings));
            Assert.That(changes, Is.Empty,
                $"Stored state changed during the campaign (seed {seed}); {changes.Count} rows:\n" + string.Join("\n", changes.Take(40)));
        });
    }

    static int Seed()
    {
        var value = Environment.GetEnvironmentVariable(SeedVariable);
        if (string.Equals(value, "random", StringComparison.OrdinalIgnoreCase))
        {
            return Random.Shared.Next();
        }

        return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : DefaultSeed;
    }

    async Task<RawResponse[]> SendAllAsync(IReadOnlyList<FuzzRequest> requests)
    {
        using var http = new RawHttpClient(Host.BaseAddress);
        var responses = new RawResponse[requests.Count];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Senders).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next); i < requests.Count; i = Interlocked.Increment(ref next))
            {
                responses[i] = await http.SendAsync(requests[i].Raw);
            }
        }));
        return responses;
    }

    /// <summary>What is wrong with one answer; a refusal by the HTTP server itself, before Orchflow runs, is told apart.</summary>
    List<string> Judge(FuzzRequest request, RawResponse response, out bool refusedByServer)
    {
        var verdicts = new List<string>();

        // Kestrel answers some requests itself, with an empty body and the connection closed, before any Orchflow
        // code runs: an encoded NUL in the path (400), a request line over 8 KiB (414), headers over 32 KiB (431).
        // Only requests built to provoke that may get it.
        refusedByServer = request.ServerMayRefuse && response.Status is 400 or 414 or 431 && response.Text.Length == 0;
        if (refusedByServer)
        {
            return verdicts;
        }

        if (response.TransportError is not null)
        {
            verdicts.Add("no response");
            return verdicts;
        }

        if (response.Status >= 500)
        {
            verdicts.Add("5xx");
        }

        if (response.Status == 429)
        {
            verdicts.Add("429 although limits are a million a minute");
        }

        if (request.MustFail && response.Status is >= 200 and < 300)
        {
            verdicts.Add(request.Mutating ? "a mutating request with a defect succeeded" : "a read with a defect succeeded");
        }

        // docs/api.md's problem details ("Errors") are the API's: a path outside /api (a favicon, the console's files) may answer otherwise.
        var underApi = request.Raw.PathAndQuery.StartsWith("/api/", StringComparison.Ordinal) || request.Raw.PathAndQuery.Split('?')[0] == "/api";
        if (response.Status >= 400 && underApi && ErrorRules.ProblemViolations(response, headRequest: request.Raw.Method == "HEAD") is { Count: > 0 } problems)
        {
            verdicts.Add("not problem details: " + string.Join("; ", problems.Select(Generalize)));
        }

        if (response.Status >= 400)
        {
            var echo = Uri.UnescapeDataString(request.Raw.PathAndQuery) + "\n" + (request.Raw.Body is { } body ? Encoding.UTF8.GetString(body) : "");
            var leaks = ErrorRules.Leaks(response.Text, echo, Host.TablePrefix, Host.TaskHub, $":{TestEnvironment.Azurite.TablePort}");
            if (leaks.Count > 0)
            {
                verdicts.Add("error body shows " + string.Join("; ", leaks));
            }
        }

        return verdicts;
    }

    /// <summary>A violation without the request's own values, so that alike findings group together.</summary>
    static string Generalize(string violation) =>
        System.Text.RegularExpressions.Regex.Replace(violation, @"'status' is \S+, not \d+", "'status' differs from the HTTP status");

    static string Summary(int seed, IReadOnlyList<FuzzRequest> requests, RawResponse[] responses, TimeSpan elapsed, int refused,
        TableSnapshot before, int findings, int changes)
    {
        var text = new StringBuilder();
        text.AppendLine($"Fuzz campaign, seed {seed}: {requests.Count} requests in {elapsed.TotalSeconds:0.0} s with {Senders} senders; " +
                        $"{requests.Count(r => r.Mutating)} mutating, {requests.Count(r => r.MustFail)} with a defect; " +
                        $"{refused} refused by the HTTP server itself; {findings} findings; {changes} stored rows changed " +
                        $"(of {before.RowCount} in {string.Join(", ", before.Tables)}).");
        text.AppendLine($"{"category",-14}{"requests",9}  statuses");
        foreach (var group in requests.Select((r, i) => (r.Category, Status: responses[i].Status)).GroupBy(x => x.Category).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var statuses = group.GroupBy(x => x.Status).OrderBy(g => g.Key).Select(g => $"{(g.Key == 0 ? "none" : g.Key.ToString(CultureInfo.InvariantCulture))}×{g.Count()}");
            text.AppendLine($"{group.Key,-14}{group.Count(),9}  {string.Join(" ", statuses)}");
        }

        return text.ToString();
    }

    static string Report(int seed, List<(string Kind, FuzzRequest Request, RawResponse Response)> findings)
    {
        var text = new StringBuilder($"{findings.Count} findings (seed {seed}, replay with {SeedVariable}={seed}):\n");
        foreach (var group in findings.GroupBy(f => (f.Kind, f.Request.Category)).OrderByDescending(g => g.Count()))
        {
            text.Append($"\n[{group.Key.Kind}] × {group.Count()} in category '{group.Key.Category}', routes: " +
                        string.Join(", ", group.Select(f => $"{f.Request.Raw.Method} {f.Request.Route ?? "(no route)"}").Distinct().Take(6)) + "\n");
            var defects = group.SelectMany(f => f.Request.Defects).GroupBy(d => d).OrderByDescending(d => d.Count()).Take(8);
            text.Append("  defects: " + string.Join("; ", defects.Select(d => $"{d.Key} ×{d.Count()}")) + "\n");
            foreach (var (_, request, response) in group.Take(ExamplesPerFinding))
            {
                text.Append(request.Describe());
                text.Append($"  → {(response.Status == 0 ? response.TransportError : response.Status.ToString(CultureInfo.InvariantCulture))} " +
                            $"{response.MediaType} {FuzzRequest.Printable(Encoding.UTF8.GetBytes(response.Text), 300)}\n");
            }
        }

        return text.ToString();
    }
}
