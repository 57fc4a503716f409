using System.Text;
using System.Text.Json.Nodes;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>
/// Account B aims at account A's runs, tasks and providers through every route of the table and every method each
/// serves, with the body A could send: every answer is 404 <c>not_found</c> (never 403 or 409, which would tell B
/// the thing exists), nothing stored changes, and B's lists show nothing of A's. The walk is over
/// <see cref="CatalogRoute.All"/>, so a route added later is checked without anyone listing it — or fails the test
/// when no one has said how to fill its parameters.
/// </summary>
[TestFixture]
// Ahead of BoundaryTests on the default host they share: its runs keep human timeouts of 30 days queued, and this
// fixture must see the host come to rest.
[Order(2)]
public sealed class TenantIsolationTests : HostedTests
{
    /// <summary>One request of the walk: B's key, A's ids in the path, the body A would send.</summary>
    public sealed record Probe(string Method, CatalogRoute Route, IReadOnlyDictionary<string, string> Ids, JsonObject? Body)
    {
        public string Path => Route.PathWith(Ids);

        public override string ToString() => $"{Method} {Path}" + (Body is null ? "" : " " + Body.ToJsonString());
    }

    /// <summary>
    /// Every request the walk sends for the owner's ids, and what stops it: a route whose parameters no one has
    /// taught <see cref="AccountIds.Fill"/>, or a method that takes a body no shape describes.
    /// </summary>
    public static (List<Probe> Probes, List<string> Unfillable) Plan(IEnumerable<CatalogRoute> routes, AccountIds owner)
    {
        var probes = new List<Probe>();
        var unfillable = new List<string>();
        foreach (var route in routes.Where(r => r.Parameters.Count > 0))
        {
            IReadOnlyList<IReadOnlyDictionary<string, string>> fills;
            try
            {
                fills = owner.Fill(route);
            }
            catch (UnknownRouteParameterException e)
            {
                unfillable.Add(e.Message);
                continue;
            }

            foreach (var method in route.Methods)
            {
                var shape = RouteShapes.Find(method, route.Template);
                if (shape is null && method is "POST" or "PUT" or "PATCH")
                {
                    unfillable.Add($"{method} {route.Template} has no shape in RouteShapes (Integration/Hostile/RouteShapes.cs), so the isolation " +
                                   "walk cannot send it the body its owner would: add one.");
                    continue;
                }

                var body = shape?.ValidBody?.Invoke(new ShapeContext(owner, new Random(1), () => $"{Guid.NewGuid():N}@example.com"));
                probes.AddRange(fills.Select(f => new Probe(method, route, f, body)));
            }
        }

        return (probes, unfillable);
    }

    [Test]
    public async Task EveryRouteWithAnId_AnotherAccountsIds_404NotFoundAndNothingChanges()
    {
        var a = await RestingAccounts.SeedAsync(Host.BaseAddress);
        var b = await RestingAccounts.SeedAsync(Host.BaseAddress);
        var connection = TestEnvironment.Azurite.ConnectionString;
        await TestHosts.WaitUntilAtRestAsync(Host);
        var before = await TableSnapshot.TakeAsync(connection, Host.TablePrefix);
        var (probes, unfillable) = Plan(CatalogRoute.All, a);
        using var http = new RawHttpClient(Host.BaseAddress);

        var failures = new List<string>(unfillable);
        foreach (var probe in probes)
        {
            var response = await http.SendAsync(Request(probe.Method, probe.Path, b.ApiKey, probe.Body));
            if (response.Status != 404 || response.Code != "not_found" || ErrorRules.ProblemViolations(response).Count > 0)
            {
                failures.Add($"B's {probe} → {response.Status} {response.Text}");
            }
            else if (a.Identifying.Where(id => !probe.Ids.Values.Contains(id))
                     .FirstOrDefault(id => response.Text.Contains(id, StringComparison.Ordinal)) is { } shown)
            {
                failures.Add($"B's {probe} → 404 that shows A's '{shown}': {response.Text}");
            }

            // The same read by A succeeds: the 404 above is about ownership, not about a bad id.
            if (probe.Method == "GET" && (await http.SendAsync(Request("GET", probe.Path, a.ApiKey, null))).Status != 200)
            {
                failures.Add($"A's own GET {probe.Path} does not answer 200, so B's 404 proves nothing");
            }
        }

        // An id in a body: B starting a run on A's provider.
        var start = new JsonObject { ["task"] = "Research competitor pricing.", ["provider_id"] = a.ProviderId };
        var foreignProvider = await http.SendAsync(Request("POST", "/api/v1/runs", b.ApiKey, start));
        if (foreignProvider.Status != 404 || foreignProvider.Code != "not_found")
        {
            failures.Add($"B's POST /api/v1/runs with A's provider_id → {foreignProvider.Status} {foreignProvider.Text}");
        }

        var lists = await ListsAsync(http, a, b);
        failures.AddRange(lists.Failures);

        // Anything a request set going in the background has written once the host has nothing left to do.
        await TestHosts.WaitUntilAtRestAsync(Host);
        var after = await TableSnapshot.TakeAsync(connection, Host.TablePrefix);
        var changes = after.ChangesSince(before);
        Assert.Multiple(() =>
        {
            Assert.That(probes.Select(p => $"{p.Method} {p.Route.Template}").Distinct().Count(),
                Is.EqualTo(CatalogRoute.All.Where(r => r.Parameters.Count > 0).Sum(r => r.Methods.Count)), "every method of every route with an id was probed");
            Assert.That(lists.Checked, Is.Not.Empty, "the list routes were checked");
            Assert.That(failures, Is.Empty, string.Join("\n", failures));
            Assert.That(changes, Is.Empty, "B's requests changed stored state:\n" + string.Join("\n", changes.Take(40)));
        });
    }

    [Test]
    public void Plan_RouteWithAParameterNoOneTaught_FailsNamingTheRouteAndWhatToDo()
    {
        var a = new AccountIds("acc_a", "orch_a", "a@example.com", "run_a1", "T1", ["T2"], "run_a2", ["T1"], "run_a3", ["T1"], "prv_a", "whk_a");
        var added = new CatalogRoute("api/v1/teams/{teamId}", ["DELETE"], ["teamId"], []);
        var withoutShape = new CatalogRoute("api/v1/runs/{runId}/rewind", ["POST"], ["runId"], []);

        var (probes, unfillable) = Plan([.. CatalogRoute.All, added, withoutShape], a);

        Assert.Multiple(() =>
        {
            Assert.That(unfillable, Has.Some.Contains("api/v1/teams/{teamId}").And.Contains("{teamId}").And.Contains("AccountIds.Fill"));
            Assert.That(unfillable, Has.Some.Contains("POST api/v1/runs/{runId}/rewind").And.Contains("RouteShapes"));
            Assert.That(unfillable, Has.Count.EqualTo(2));
            Assert.That(probes.Select(p => p.Route.Template), Does.Contain("api/v1/runs/{runId}/tasks/{taskId}/complete"));
        });
    }

    /// <summary>Every protected list route (a GET with no id): B's answer shows nothing of A's, A's shows A's own.</summary>
    static async Task<(List<string> Checked, List<string> Failures)> ListsAsync(RawHttpClient http, AccountIds a, AccountIds b)
    {
        var checkedRoutes = new List<string>();
        var failures = new List<string>();
        foreach (var route in CatalogRoute.All.Where(r => r.Parameters.Count == 0 && r.Serves("GET") && !r.IsPublic("GET")))
        {
            var path = route.PathWith(new Dictionary<string, string>()) + (RouteShapes.Find("GET", route.Template)?.Query.Any(q => q.Name == "limit") == true ? "?limit=100" : "");
            var asB = await http.SendAsync(Request("GET", path, b.ApiKey, null));
            var asA = await http.SendAsync(Request("GET", path, a.ApiKey, null));
            checkedRoutes.Add(route.Template);
            if (asB.Status != 200)
            {
                failures.Add($"B's GET {path} → {asB.Status} {asB.Text}");
            }

            if (a.Identifying.FirstOrDefault(id => asB.Text.Contains(id, StringComparison.Ordinal)) is { } leaked)
            {
                failures.Add($"B's GET {path} shows A's '{leaked}': {asB.Text}");
            }

            if (!a.Identifying.Any(id => asA.Text.Contains(id, StringComparison.Ordinal)) || !b.Identifying.Any(id => asB.Text.Contains(id, StringComparison.Ordinal)))
            {
                failures.Add($"GET {path} lists neither account's own things, so it proves nothing: A got {asA.Text}, B got {asB.Text}");
            }
        }

        return (checkedRoutes, failures);
    }

    static RawRequest Request(string method, string path, string key, JsonObject? body) =>
        new(method, path, [new("X-API-Key", key)], body is null ? null : Encoding.UTF8.GetBytes(body.ToJsonString()), body is null ? null : "application/json");
}
