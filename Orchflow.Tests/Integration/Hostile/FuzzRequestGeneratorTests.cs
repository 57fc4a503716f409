using System.Text.Json.Nodes;
using Orchflow.Functions.Http;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>
/// The campaign's generator on its own, without a host: that it is reproducible, that it reaches every route and
/// method of the catalog (and routes added later), and that every mutating request it builds has a defect.
/// </summary>
[TestFixture]
public sealed class FuzzRequestGeneratorTests
{
    static readonly FuzzTargets Targets = new(Account("a"), Account("b"));

    static AccountIds Account(string tag) => new(
        $"acc_{tag}0000000000000000000", "orch_" + new string(tag[0], 43), $"{tag}@example.com",
        $"run_{tag}000000000000000001", "T1", ["T2", "T3"],
        $"run_{tag}000000000000000002", ["T1", "T2"],
        $"run_{tag}000000000000000003", ["T1", "T2", "T3"],
        $"prv_{tag}00000000000001",
        $"whk_{tag}0000000000000000001",
        KeyId: $"key_{tag}000000000000000001");

    static readonly IReadOnlyList<FuzzRequest> Campaign = new FuzzRequestGenerator(7, Targets).Generate(FuzzRequestGenerator.DefaultCount);

    [Test]
    public void Generate_SameSeed_SameRequestsInTheSameOrder()
    {
        var again = new FuzzRequestGenerator(7, Targets).Generate(FuzzRequestGenerator.DefaultCount);

        Assert.That(again.Select(r => r.Describe()), Is.EqualTo(Campaign.Select(r => r.Describe())));
    }

    [Test]
    public void Generate_OtherSeed_OtherRequests()
    {
        var other = new FuzzRequestGenerator(8, Targets).Generate(FuzzRequestGenerator.DefaultCount);

        Assert.That(other.Select(r => r.Describe()), Is.Not.EqualTo(Campaign.Select(r => r.Describe())));
    }

    [Test]
    public void Generate_DefaultCount_AtLeast5000RequestsInEveryCategory()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Campaign, Has.Count.GreaterThanOrEqualTo(5000));
            foreach (var (category, _) in FuzzRequestGenerator.Categories)
            {
                Assert.That(Campaign.Count(r => r.Category == category), Is.GreaterThanOrEqualTo(50), category);
            }
        });
    }

    [Test]
    public void Generate_EveryMutatingRequest_CarriesADefect()
    {
        var mutating = Campaign.Where(r => r.Mutating).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(mutating, Has.Count.GreaterThan(Campaign.Count / 2));
            Assert.That(mutating.Where(r => !r.MustFail).Select(r => r.Describe()), Is.Empty);
        });
    }

    [Test]
    public void Generate_EveryRouteAndMethodOfTheCatalog_IsSentByEveryKindOfCaller()
    {
        Assert.Multiple(() =>
        {
            foreach (var function in FunctionCatalog.Http.Where(f => f.IsApi && !f.IsFallback))
            {
                foreach (var method in function.Methods)
                {
                    var hits = Campaign.Where(r => r.Route == function.Route && r.Raw.Method == method).ToList();
                    var callers = hits.Select(r => r.Caller).Distinct().ToList();
                    Assert.That(hits, Has.Count.GreaterThanOrEqualTo(20), $"{method} {function.Route}");
                    // Closing the account reads nothing but the key, so a request an account sent could only close it: the
                    // campaign sends it with defective keys alone.
                    if (function.Name != nameof(Orchflow.Functions.Functions.AuthFunctions.CloseAccount))
                    {
                        Assert.That(callers, Does.Contain("account A").And.Contain("account B"), $"{method} {function.Route}");
                    }

                    if (!function.IsPublic)
                    {
                        Assert.That(callers, Does.Contain("no X-API-Key").And.Contain("a malformed X-API-Key").And.Contain("a well-formed key no account has"),
                            $"{method} {function.Route}");
                    }
                }
            }
        });
    }

    [Test]
    public void Generate_EveryPathOfTheCatalog_GetsMethodsItDoesNotServe()
    {
        Assert.Multiple(() =>
        {
            foreach (var route in CatalogRoute.All)
            {
                var unserved = Campaign.Where(r => r.Route == route.Template && !route.Serves(r.Raw.Method)).Select(r => r.Raw.Method).Distinct().ToList();
                Assert.That(unserved, Has.Count.GreaterThanOrEqualTo(3), route.Template);
            }
        });
    }

    [Test]
    public void Generate_PathsNoRouteHas_UnderTheApiAndOutsideIt()
    {
        var paths = Campaign.Where(r => r.Route is null).Select(r => r.Raw.PathAndQuery).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(paths, Has.Some.StartsWith("/api/"));
            Assert.That(paths, Has.Some.Not.StartsWith("/api"));
            Assert.That(paths, Does.Contain("/api/v1/nosuch/..%2F..%2Fetc"));
        });
    }

    [TestCase("text: NUL in")]
    [TestCase("text: lone surrogate in")]
    [TestCase("text: duplicate key")]
    [TestCase("nested")]
    [TestCase("invalid UTF-8")]
    [TestCase("truncated")]
    [TestCase("UTF-16")]
    [TestCase("content-type:")]
    [TestCase("is a number")]
    [TestCase("is 1e400")]
    [TestCase("over its")]
    [TestCase("chunked")]
    [TestCase("is dot-dot-slash, encoded")]
    [TestCase("is an encoded NUL")]
    [TestCase("is backslashes")]
    [TestCase("is 4,000 characters")]
    [TestCase("is an emoji")]
    [TestCase("is another account's")]
    [TestCase("query: limit")]
    [TestCase("query: offset")]
    [TestCase("tenant:")]
    [TestCase("state:")]
    [TestCase("auth:")]
    [TestCase("method:")]
    [TestCase("path:")]
    public void Generate_DefaultCount_IncludesEachHostilePart(string defect)
    {
        Assert.That(Campaign.SelectMany(r => r.Defects), Has.Some.Contains(defect));
    }

    [Test]
    public void Generate_BodiesOver256KiB_WithAndWithoutContentLength()
    {
        var oversized = Campaign.Where(r => r.Category == "size").ToList();

        Assert.Multiple(() =>
        {
            Assert.That(oversized.Select(r => r.Raw.Body!.Length), Is.All.GreaterThan(RequestBody.MaxBytes));
            Assert.That(oversized.Select(r => r.Raw.Body!.Length), Has.Some.EqualTo(RequestBody.MaxBytes + 1));
            Assert.That(oversized.Select(r => r.Raw.Chunked), Does.Contain(true).And.Contain(false));
        });
    }

    [Test]
    public void Generate_EveryBoundedTextField_IsSentOneCharacterOverItsBound()
    {
        var lengths = Campaign
            .Where(r => r.Category == "field-bound" && r.Raw.Body is not null)
            .Select(r => (r.Route, Body: JsonNode.Parse(r.Raw.Body!) as JsonObject))
            .Where(x => x.Body is not null)
            .SelectMany(x => x.Body!.Where(p => p.Value is JsonValue v && v.TryGetValue(out string? _))
                .Select(p => (x.Route, Field: p.Key, Length: p.Value!.GetValue<string>().Length)))
            .ToHashSet();

        Assert.Multiple(() =>
        {
            foreach (var shape in RouteShapes.All)
            {
                foreach (var field in shape.Fields.Where(f => f.Kind == FieldKind.Text && f.MaxLength > 0))
                {
                    Assert.That(lengths, Does.Contain((shape.Template, field.Name, field.MaxLength + 1)), $"{shape.Method} {shape.Template} {field.Name}");
                }
            }
        });
    }

    [Test]
    public void Generate_RoutesAddedLater_AreFuzzedAndTheirMutationsCarryDefects()
    {
        CatalogRoute[] added =
        [
            new("api/v1/teams/{teamId}/invitations", ["POST"], ["teamId"], []),
            new("api/v1/auth/login", ["POST"], [], ["POST"]),
        ];

        var campaign = new FuzzRequestGenerator(7, Targets, [.. CatalogRoute.All, .. added]).Generate(FuzzRequestGenerator.DefaultCount);

        Assert.Multiple(() =>
        {
            foreach (var route in added)
            {
                var hits = campaign.Where(r => r.Route == route.Template).ToList();
                Assert.That(hits.Count(r => r.Raw.Method == "POST"), Is.GreaterThanOrEqualTo(20), route.Template);
                Assert.That(hits.Where(r => r.Mutating && !r.MustFail).Select(r => r.Describe()), Is.Empty, route.Template);
            }
        });
    }

    [Test]
    public void Describe_BodyWithControlBytes_ShowsThemEscaped()
    {
        var request = Campaign.First(r => r.Defects.Any(d => d.Contains("raw NUL byte", StringComparison.Ordinal)));

        var described = request.Describe();
        Assert.Multiple(() =>
        {
            Assert.That(described, Does.Contain("\\x00").And.Contain(request.Raw.Method));
            Assert.That(described.Contains('\0', StringComparison.Ordinal), Is.False, described);
            Assert.That(request.Raw.Body, Does.Contain((byte)0));
        });
    }
}
