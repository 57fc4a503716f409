using System.Text.Json.Nodes;
using Orchflow.Functions.Functions;
using Orchflow.Functions.Http;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>
/// Generates a reproducible campaign of malformed and hostile requests from a seed: every route and method of
/// <see cref="FunctionCatalog"/>, methods they do not serve and paths no route has, under every kind of caller.
/// Requests are built category by category (so each hostile part gets its share), then shuffled; the same seed and
/// targets give the same requests in the same order.
/// </summary>
public sealed partial class FuzzRequestGenerator
{
    public const int DefaultCount = 6600;

    /// <summary>Each category and its share of the campaign.</summary>
    public static readonly IReadOnlyList<(string Name, int Weight)> Categories =
    [
        ("auth", 10), ("method", 8), ("path", 7), ("id", 13), ("tenant", 5), ("state", 5), ("query", 7),
        ("syntax", 12), ("content-type", 5), ("field-type", 10), ("field-bound", 9), ("text", 7), ("size", 2),
    ];

    static readonly string[] SafeMethods = ["GET", "HEAD", "OPTIONS", "TRACE"];

    static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "MERGE"];

    const string IdAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    readonly Random random;
    int intVariant;
    readonly FuzzTargets targets;
    readonly int seed;
    readonly IReadOnlyList<CatalogRoute> routes;
    int emails;

    public FuzzRequestGenerator(int seed, FuzzTargets targets, IReadOnlyList<CatalogRoute>? routes = null)
    {
        this.seed = seed;
        this.targets = targets;
        this.routes = routes ?? CatalogRoute.All;
        random = new Random(seed);
    }

    public static bool IsMutating(string method) => !SafeMethods.Contains(method);

    public IReadOnlyList<FuzzRequest> Generate(int count)
    {
        var total = Categories.Sum(c => c.Weight);
        var drafts = new List<Draft>();
        var left = count;
        foreach (var (category, weight) in Categories)
        {
            var n = category == Categories[^1].Name ? left : (int)Math.Round((double)count * weight / total);
            n = Math.Min(n, left);
            left -= n;
            for (var i = 0; i < n; i++)
            {
                drafts.Add(Build(category, i));
            }
        }

        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(drafts));
        return drafts.Select((d, i) => d.Finish(i, this)).ToList();
    }

    Draft Build(string category, int i)
    {
        var draft = category switch
        {
            "auth" => Auth(i),
            "method" => WrongMethod(i),
            "path" => UnknownPath(i),
            "id" => HostileId(i),
            "tenant" => Tenant(i),
            "state" => StateConflict(i),
            "query" => HostileQuery(i),
            "syntax" => BrokenSyntax(i),
            "content-type" => WrongContentType(i),
            "field-type" => WrongFieldType(i),
            "field-bound" => OutOfBounds(i),
            "text" => HostileText(i),
            "size" => Oversized(i),
            _ => throw new ArgumentOutOfRangeException(nameof(category), category, null),
        };
        if (random.Next(100) < 15)
        {
            Decorate(draft);
        }

        return draft;
    }


    internal string KeyValue(KeyKind kind, AccountIds? owner, out string? second)
    {
        second = null;
        var a = targets.A.ApiKey;
        switch (kind)
        {
            case KeyKind.CallerA:
                return a;
            case KeyKind.CallerB:
                return targets.B.ApiKey;
            case KeyKind.Blank:
                return Pick("", " ", "\t");
            case KeyKind.UnknownWellFormed:
                return "orch_" + string.Concat(Enumerable.Range(0, 43).Select(_ => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[random.Next(64)]));
            case KeyKind.Duplicated:
                second = Pick(a, targets.B.ApiKey, "junk");
                return (owner ?? targets.A).ApiKey;
            case KeyKind.Malformed:
                return Pick("Bearer " + a, a[..^1] + "!", "orch_", "orch_short", "ORCH_" + a[5..], a + "," + a, "orch_" + new string('A', 200),
                    "null", "undefined", "' OR '1'='1", "orch_%00" + a[8..], "%6Frch_" + a[5..], a[..20], a + " " + a, "Basic b3JjaDo=");
            default:
                return "";
        }
    }

    /// <summary>Who a request claims to be.</summary>
    public enum KeyKind
    {
        None,
        Blank,
        Malformed,
        UnknownWellFormed,
        Duplicated,
        CallerA,
        CallerB,
    }

    /// <summary>A request being built, with the defects its builder put in.</summary>
    sealed class Draft(string category)
    {
        public string Category { get; } = category;

        public string Method { get; set; } = "GET";

        public CatalogRoute? Route { get; set; }

        public AccountIds? Owner { get; set; }

        /// <summary>For paths no route has: the whole path, used as written.</summary>
        public string? RawPath { get; set; }

        public Dictionary<string, string> Ids { get; } = [];

        public string Query { get; set; } = "";

        public KeyKind Key { get; set; }

        public byte[]? Body { get; set; }

        public string? ContentType { get; set; }

        public bool Chunked { get; set; }

        public List<KeyValuePair<string, string>> Headers { get; } = [];

        public List<string> Defects { get; } = [];

        public bool ServerMayRefuse { get; set; }

        public FuzzRequest Finish(int index, FuzzRequestGenerator generator)
        {
            var targets = generator.targets;
            var caller = Key switch
            {
                KeyKind.CallerA => targets.A,
                KeyKind.CallerB => targets.B,
                _ => null,
            };
            var served = Route?.Serves(Method) == true && RawPath is null;
            if (served && !Route!.IsPublic(Method) && caller is null)
            {
                Defects.Add($"auth: {Describe(Key)}");
            }

            // The ids are the owner's; called by the other account they are foreign, whatever else is right.
            if (served && caller is not null && Owner is not null && caller != Owner && Route!.Parameters.Count > 0 &&
                Route.Parameters.Any(p => Fills(Route, Owner).Any(f => f[p] == Ids.GetValueOrDefault(p))))
            {
                Defects.Add($"tenant: {(caller == targets.A ? "A" : "B")}'s key on the other account's ids");
            }

            if (IsMutating(Method) && Defects.Count == 0)
            {
                AddDefect(generator);
            }

            var headers = new List<KeyValuePair<string, string>>();
            if (Key != KeyKind.None)
            {
                headers.Add(new("X-API-Key", generator.KeyValue(Key, Owner, out var second)));
                if (second is not null)
                {
                    headers.Add(new("X-API-Key", second));
                }
            }

            headers.AddRange(Headers);
            var path = (RawPath ?? Route!.PathWith(Ids)) + Query;
            var raw = new RawRequest(Method, path, headers, Body, ContentType, Chunked);
            var who = Key switch
            {
                KeyKind.CallerA => "account A",
                KeyKind.CallerB => "account B",
                _ => Describe(Key),
            };
            return new FuzzRequest(index, Category, raw, RawPath is null ? Route!.Template : null, who, IsMutating(Method), Defects.ToList(), ServerMayRefuse);
        }

        /// <summary>
        /// A mutating request its builder left without a defect (a query or a header alone changes nothing for the
        /// route): one is added, so no request of the campaign may really act.
        /// </summary>
        void AddDefect(FuzzRequestGenerator generator)
        {
            var shape = Route is null ? null : RouteShapes.Find(Method, Route.Template);
            if (Route is not null && !Route.IsPublic(Method))
            {
                Key = KeyKind.None;
                Defects.Add("auth: no key (added so the request cannot act)");
            }
            else if (shape?.ReadsBody == true && Body is { Length: > 1 })
            {
                Body = Body[..^1];
                Defects.Add("syntax: body cut short (added so the request cannot act)");
            }
            else if (Route is { Parameters.Count: > 0 })
            {
                Ids[Route.Parameters[0]] = "nosuch_" + generator.RandomId(10);
                Defects.Add("id: made-up id (added so the request cannot act)");
            }
            else
            {
                Body = "{\"x\":"u8.ToArray();
                ContentType = "application/json";
                Defects.Add($"syntax: unterminated body (added so the request cannot act; assumed read: {Route?.Template ?? RawPath} has no shape)");
            }
        }

        static string Describe(KeyKind key) => key switch
        {
            KeyKind.None => "no X-API-Key",
            KeyKind.Blank => "a blank X-API-Key",
            KeyKind.Malformed => "a malformed X-API-Key",
            KeyKind.UnknownWellFormed => "a well-formed key no account has",
            KeyKind.Duplicated => "two X-API-Key headers",
            _ => key.ToString(),
        };
    }
}
