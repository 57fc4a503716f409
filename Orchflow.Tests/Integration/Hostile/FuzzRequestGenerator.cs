using System.Text;
using System.Text.Json.Nodes;
using Orchflow.Functions.Functions;
using Orchflow.Functions.Http;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>The two accounts a campaign aims at: A's and B's resting runs and providers.</summary>
public sealed record FuzzTargets(AccountIds A, AccountIds B);

/// <summary>
/// One generated request and what is wrong with it by construction. A request with a defect must not succeed; a
/// mutating one always has at least one, so a 2xx to it means the API accepted something it should have refused.
/// </summary>
public sealed record FuzzRequest(
    int Index,
    string Category,
    RawRequest Raw,
    string? Route,
    string Caller,
    bool Mutating,
    IReadOnlyList<string> Defects,
    bool ServerMayRefuse)
{
    public bool MustFail => Defects.Count > 0;

    /// <summary>The request as a person would replay it: method, path, headers and the body, bytes escaped.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append($"#{Index} [{Category}] {Raw.Method} {Shorten(Raw.PathAndQuery, 300)}{(Route is null ? "" : $"  (route {Route})")}\n");
        text.Append($"    caller: {Caller}\n");
        foreach (var (name, value) in Raw.Headers)
        {
            text.Append($"    {name}: {Shorten(value, 120)}\n");
        }

        if (Raw.ContentType is not null)
        {
            text.Append($"    Content-Type: {Raw.ContentType}\n");
        }

        if (Raw.Body is not null)
        {
            text.Append($"    body ({Raw.Body.Length} bytes{(Raw.Chunked ? ", chunked, no Content-Length" : "")}): {Printable(Raw.Body)}\n");
        }

        if (Defects.Count > 0)
        {
            text.Append($"    defects: {string.Join("; ", Defects)}\n");
        }

        return text.ToString();
    }

    /// <summary>Bytes as text with anything not printable ASCII written as \xNN, cut to a readable length.</summary>
    public static string Printable(byte[] bytes, int max = 400)
    {
        var text = new StringBuilder();
        foreach (var b in bytes.Take(max))
        {
            text.Append(b is >= 0x20 and < 0x7f ? ((char)b).ToString() : $"\\x{b:X2}");
        }

        return bytes.Length > max ? text + $"… (+{bytes.Length - max} bytes)" : text.ToString();
    }

    static string Shorten(string text, int max) => text.Length <= max ? text : text[..max] + $"… ({text.Length} chars)";
}

/// <summary>
/// Generates a reproducible campaign of malformed and hostile requests from a seed: every route and method of
/// <see cref="FunctionCatalog"/>, methods they do not serve and paths no route has, under every kind of caller.
/// Requests are built category by category (so each hostile part gets its share), then shuffled; the same seed and
/// targets give the same requests in the same order.
/// </summary>
public sealed class FuzzRequestGenerator
{
    public const int DefaultCount = 6000;

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

    // ---- Categories -------------------------------------------------------------------------------------------

    /// <summary>Every route and method, valid in every other way, without a usable key.</summary>
    Draft Auth(int i)
    {
        // Public routes too: a key they do not need, however wrong, must not break them.
        var pairs = RouteMethods(includePublic: true).ToList();
        var (route, method) = pairs[i % pairs.Count];
        var draft = Baseline("auth", route, method, targets.A);
        // Each pair gets every kind of key in turn. A real key goes only to reads, which change nothing; on a mutating
        // route it would make a request with nothing wrong with it.
        KeyKind[] kinds = method == "GET"
            ? [KeyKind.None, KeyKind.Blank, KeyKind.Malformed, KeyKind.UnknownWellFormed, KeyKind.Duplicated, KeyKind.CallerA, KeyKind.CallerB]
            : [KeyKind.None, KeyKind.Blank, KeyKind.Malformed, KeyKind.UnknownWellFormed, KeyKind.Duplicated];
        draft.Key = kinds[i / pairs.Count % kinds.Length];
        return draft;
    }

    /// <summary>A known path with a method it does not serve, carrying a body one of its methods would take.</summary>
    Draft WrongMethod(int i)
    {
        var route = routes[i % routes.Count];
        var unserved = Methods.Where(m => !route.Serves(m)).ToList();
        var method = unserved[random.Next(unserved.Count)];
        var owner = random.Next(5) == 0 ? targets.B : targets.A;
        var draft = Baseline("method", route, route.Methods[random.Next(route.Methods.Count)], owner);
        draft.Method = method;
        draft.Key = Pick(KeyKind.CallerA, KeyKind.CallerA, KeyKind.CallerA, KeyKind.CallerB, KeyKind.None);
        draft.Defects.Add($"method: {route.Template} does not serve {method}");
        return draft;
    }

    /// <summary>Paths no route has: the table's own paths bent, paths that look like files, and paths outside the API.</summary>
    Draft UnknownPath(int i)
    {
        var draft = new Draft("path")
        {
            Method = Pick("GET", "GET", "POST", "DELETE", "PUT", "PATCH", "HEAD"),
            Key = Pick(KeyKind.CallerA, KeyKind.CallerA, KeyKind.CallerB, KeyKind.None, KeyKind.UnknownWellFormed),
        };
        var route = routes[i % routes.Count];
        var valid = route.PathWith(OwnIds(route, route.Methods[0], targets.A));
        var segments = valid.Split('/');
        var literal = Enumerable.Range(3, segments.Length - 3).Where(s => !targets.A.RunIds.Contains(segments[s]) && segments[s] != targets.A.ProviderId &&
                                                                        segments[s] != targets.A.WebhookId && segments[s] != targets.A.WaitingTaskId &&
                                                                        segments[s] != targets.A.ToolServerId).ToList();
        string path;
        var mayRefuse = false;
        switch (random.Next(6))
        {
            case 0:
                var suffix = Pick("/x", "/..%2F..%2Fetc", "/.env", "/index.html", "/cancel", "/T1", "/..;", "/%00", "/" + new string('a', 2000), "/%E2%80%AE");
                mayRefuse = suffix == "/%00";
                path = valid + suffix;
                break;
            case 1:
                path = valid.Replace("/api/v1/", "/api/" + Pick("v2", "v0", "v1.0", "v1%2F", "v1;", "v1.json") + "/");
                break;
            case 2 when literal.Count > 0:
                var s2 = literal[random.Next(literal.Count)];
                segments[s2] += Pick(".json", "x", "%2F", "%2F..", ".bak", "~");
                path = string.Join('/', segments);
                break;
            case 3:
                var fixedPath = Pick(
                    "/api/v1/nosuch/..%2F..%2Fetc", "/api/v1/nosuch", "/api/v1/nosuch/file.txt", "/api/v1/openapi.yaml",
                    "/api/v1/health.php", "/api/.env", "/api/.git/config", "/api/v1/runs/run_x/tasks%2F..%2F",
                    "/api/v1/runs/run_x/tasks/T1/complete/x", "/api/v1/runs/../../etc/passwd", "/api/v1/accounts/me",
                    "/api/v1//runs", "/api/v1/runs//tasks", "/api", "/api/", "/api/v1", "/api/v1/", "/api/v1/%E2%80%AE",
                    "/api/v1/" + new string('z', 3000), "/api/v1/runs/" + targets.A.WaitingRunId + "/tasks/T1/complete.json",
                    "/api/v1/providers/" + targets.A.ProviderId + "/key.txt", "/api/v1/runs/" + targets.A.WaitingRunId + "/tasks/T1");
                path = fixedPath;
                break;
            case 4:
                path = Pick("/", "/etc/passwd", "/.env", "/favicon.ico", "/index.html", "/admin", "/api..%2Fetc", "/v1/runs", "/API/v2/runs");
                break;
            default:
                path = valid + "/" + Pick("..%2F..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f", "..%5C..%5C", "nosuch.txt");
                break;
        }

        draft.RawPath = path;
        draft.ServerMayRefuse = mayRefuse;
        var underApi = path.StartsWith("/api/", StringComparison.Ordinal) || path == "/api";
        if (underApi || IsMutating(draft.Method))
        {
            draft.Defects.Add(underApi ? "path: no route has it" : "path: outside the API");
        }

        if (IsMutating(draft.Method))
        {
            AnyBody(draft, targets.A);
        }

        return draft;
    }

    /// <summary>Every route with an id, one id replaced by something hostile, unknown, of another kind or foreign.</summary>
    Draft HostileId(int i)
    {
        var withIds = RouteMethods(includePublic: true).Where(p => p.Route.Parameters.Count > 0).ToList();
        var (route, method) = withIds[i % withIds.Count];
        var key = Pick(KeyKind.CallerA, KeyKind.CallerA, KeyKind.CallerA, KeyKind.CallerA, KeyKind.CallerA, KeyKind.CallerA, KeyKind.CallerB, KeyKind.None);
        var (owner, other) = key == KeyKind.CallerB ? (targets.B, targets.A) : (targets.A, targets.B);
        var draft = Baseline("id", route, method, owner);
        draft.Key = key;
        var parameter = route.Parameters[random.Next(route.Parameters.Count)];
        var (label, raw, mayRefuse) = HostileIdFor(parameter, draft.Ids, owner, other);
        draft.Ids[parameter] = raw;
        draft.ServerMayRefuse |= mayRefuse;
        draft.Defects.Add($"id: {{{parameter}}} is {label}");
        return draft;
    }

    /// <summary>One account's valid request aimed at the other account's things: the ids in the path, or a provider in the body.</summary>
    Draft Tenant(int i)
    {
        var withIds = RouteMethods().Where(p => p.Route.Parameters.Count > 0).ToList();
        var (caller, owner) = random.Next(3) == 0 ? (KeyKind.CallerA, targets.B) : (KeyKind.CallerB, targets.A);
        if (i % (withIds.Count + 1) == withIds.Count && RouteShapes.Find("POST", "api/v1/runs") is { } start && Route("api/v1/runs") is { } runs)
        {
            var callerIds = caller == KeyKind.CallerA ? targets.A : targets.B;
            var draft = Baseline("tenant", runs, "POST", callerIds);
            var body = start.ValidBody!(Context(callerIds));
            body["provider_id"] = owner.ProviderId;
            SetJson(draft, body);
            draft.Key = caller;
            draft.Defects.Add("tenant: provider_id is another account's");
            return draft;
        }

        var (route, method) = withIds[i % withIds.Count];
        var foreign = Baseline("tenant", route, method, owner);
        foreign.Key = caller;
        return foreign;
    }

    /// <summary>Valid requests from the owner that the stored state refuses: ended runs, tasks not waiting, a taken email.</summary>
    Draft StateConflict(int i)
    {
        var owner = random.Next(4) == 0 ? targets.B : targets.A;
        var key = owner == targets.A ? KeyKind.CallerA : KeyKind.CallerB;
        var choices = new List<Func<Draft>>();
        foreach (var (route, method) in RouteMethods(includePublic: true))
        {
            var shape = RouteShapes.Find(method, route.Template);
            if (shape is null || route.Parameters.Count == 0 || !IsMutating(method))
            {
                continue;
            }

            foreach (var fill in Fills(route, owner).Where(f => shape.Conflict(owner, f) is not null))
            {
                choices.Add(() =>
                {
                    var draft = Baseline("state", route, method, owner);
                    foreach (var (k, v) in fill)
                    {
                        draft.Ids[k] = v;
                    }

                    draft.Key = key;
                    draft.Defects.Add("state: " + shape.Conflict(owner, fill));
                    return draft;
                });
            }
        }

        if (Route("api/v1/auth/register") is { } register)
        {
            choices.Add(() =>
            {
                var draft = Baseline("state", register, "POST", owner);
                var email = Pick(owner.Email, owner.Email.ToUpperInvariant(), "  " + owner.Email + " ");
                SetJson(draft, new JsonObject { ["name"] = "Again", ["email"] = email });
                draft.Key = Pick(KeyKind.None, KeyKind.CallerA);
                draft.Defects.Add("state: the email is registered already");
                return draft;
            });
        }

        if (Route("api/v1/runs") is { } runs && RouteShapes.Find("POST", "api/v1/runs") is { } start)
        {
            choices.Add(() =>
            {
                var draft = Baseline("state", runs, "POST", owner);
                var body = start.ValidBody!(Context(owner));
                body["provider_id"] = Pick("prv_" + RandomId(16), "prv_" + RandomId(40), owner.WaitingRunId, owner.AccountId);
                SetJson(draft, body);
                draft.Key = key;
                draft.Defects.Add("state: provider_id names no provider of the caller");
                return draft;
            });
        }

        return choices[i % choices.Count]();
    }

    /// <summary>Query strings with out-of-range, non-numeric, repeated, encoded and injected values, on every route.</summary>
    Draft HostileQuery(int i)
    {
        // Half the campaign's queries go to the routes that read a query; the rest to every other route and method.
        var readers = RouteMethods(includePublic: true).Where(p => RouteShapes.Find(p.Method, p.Route.Template)?.Query.Count > 0).ToList();
        var all = RouteMethods(includePublic: true).ToList();
        var (route, method) = i % 2 == 0 && readers.Count > 0 ? readers[i / 2 % readers.Count] : all[i % all.Count];
        var draft = Baseline("query", route, method, targets.A);
        draft.Key = Pick(KeyKind.CallerA, KeyKind.CallerA, KeyKind.CallerA, KeyKind.CallerB);
        var shape = RouteShapes.Find(method, route.Template);
        var parts = new List<string>();
        if (shape?.Query.Count > 0 && random.Next(4) > 0)
        {
            var field = shape.Query[random.Next(shape.Query.Count)];
            var (raw, label) = InvalidNumber(field);
            parts.Add($"{(random.Next(6) == 0 ? field.Name.ToUpperInvariant() : field.Name)}={raw}");
            draft.Defects.Add($"query: {field.Name} is {label}");
        }

        var extras = random.Next(3);
        for (var e = 0; e < extras; e++)
        {
            // None of these names the parameter a defect is in: the route must read the hostile value, not an extra.
            parts.Add(Pick("after=-1", "after=abc", "cursor=%00", "$filter=PartitionKey%20ne%20''", "$select=*", "$top=100000",
                "limit[]=1", "limit[$gt]=0", "x=" + new string('q', 3000), "a=%", "=&=&", "%00=1", "sort=../../etc", "callback=alert(1)",
                "format=xml", "api_key=" + targets.A.ApiKey, "q=%F0%9F%92%A5%ED%A0%80"));
        }

        if (parts.Count == 0)
        {
            parts.Add("x=" + RandomId(8));
        }

        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(parts));
        draft.Query = "?" + string.Join('&', parts);
        return draft;
    }

    /// <summary>Bodies that are not JSON, or not one JSON object: truncated, commented, mis-encoded, nested too deep…</summary>
    Draft BrokenSyntax(int i)
    {
        var (route, method, shape) = BodyRoute(i);
        var owner = RandomOwner();
        var draft = Baseline("syntax", route, method, owner);
        draft.Key = owner == targets.A ? KeyKind.CallerA : KeyKind.CallerB;
        var text = JsonText(shape is null ? new JsonObject { ["name"] = "x" } : shape.ValidBody!(Context(owner)));
        var (label, bytes) = Corrupt(text);
        draft.Body = bytes;
        draft.ContentType = Pick("application/json", "application/json", "application/json; charset=utf-8", null);
        draft.Defects.Add("syntax: " + label + (shape is null ? $" (assumed read: {route.Template} has no shape)" : ""));
        return draft;
    }

    /// <summary>A valid body sent as something other than JSON.</summary>
    Draft WrongContentType(int i)
    {
        var (route, method, shape) = BodyRoute(i);
        var owner = RandomOwner();
        var draft = Baseline("content-type", route, method, owner);
        draft.Key = owner == targets.A ? KeyKind.CallerA : KeyKind.CallerB;
        draft.ContentType = Pick("text/plain", "text/plain; charset=utf-8", "application/xml", "text/xml", "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=fuzz", "application/octet-stream", "image/png", "text/html; x=json", "application/jsonp",
            "text/plain; format=json", "", "application", "application/x-msgpack");
        draft.Defects.Add($"content-type: '{draft.ContentType}' is not JSON" + (shape is null ? $" (assumed read: {route.Template} has no shape)" : ""));
        return draft;
    }

    /// <summary>Each field of each body given a value of the wrong JSON type, or missing when it is required.</summary>
    Draft WrongFieldType(int i)
    {
        var (route, method, shape, field) = BodyField(i);
        var owner = RandomOwner();
        var draft = Baseline("field-type", route, method, owner);
        draft.Key = owner == targets.A ? KeyKind.CallerA : KeyKind.CallerB;
        var body = shape.ValidBody!(Context(owner));
        var (label, value, remove) = WrongType(field);
        if (remove)
        {
            body.Remove(field.Name);
        }
        else
        {
            body[field.Name] = value;
        }

        SetJson(draft, body);
        draft.Defects.Add($"type: '{field.Name}' {label}");
        return draft;
    }

    /// <summary>Each bound of each field crossed by one, huge numbers, and values the route's rules refuse.</summary>
    Draft OutOfBounds(int i)
    {
        var (route, method, shape, field) = BodyField(i);
        var owner = RandomOwner();
        var draft = Baseline("field-bound", route, method, owner);
        draft.Key = owner == targets.A ? KeyKind.CallerA : KeyKind.CallerB;
        var body = shape.ValidBody!(Context(owner));
        string label;
        // The kind of defect turns with each round over the fields, so every field gets both whatever their number.
        if (i / BodyFields().Count % 3 != 2 && OverBound(field) is { } over)
        {
            body[field.Name] = over.Node;
            label = $"'{field.Name}' {over.Label}";
        }
        else
        {
            label = Semantic(shape, body) ?? throw new InvalidOperationException($"{method} {route.Template} has no rule to break.");
        }

        SetJson(draft, body);
        draft.Defects.Add("bound: " + label);
        return draft;
    }

    /// <summary>NUL characters and lone surrogates in text fields, and duplicated keys, in otherwise valid bodies.</summary>
    Draft HostileText(int i)
    {
        var (route, method, shape, _) = BodyField(i);
        var owner = RandomOwner();
        var draft = Baseline("text", route, method, owner);
        draft.Key = owner == targets.A ? KeyKind.CallerA : KeyKind.CallerB;
        var body = shape.ValidBody!(Context(owner));
        var texts = shape.Fields.Where(f => f.Kind is FieldKind.Text or FieldKind.TextList or FieldKind.AgentList).ToList();
        var field = texts[random.Next(texts.Count)];
        const string marker = "\u0001HOSTILE\u0001";
        string where;
        switch (field.Kind)
        {
            case FieldKind.TextList:
                body[field.Name] = new JsonArray("fine", marker);
                where = $"{field.Name}[1]";
                break;
            case FieldKind.AgentList:
                var instructions = random.Next(2) == 0;
                body[field.Name] = new JsonArray(instructions
                    ? new JsonObject { ["name"] = "research", ["instructions"] = marker }
                    : new JsonObject { ["name"] = marker, ["instructions"] = "Define it." });
                where = $"{field.Name}[0].{(instructions ? "instructions" : "name")}";
                break;
            default:
                body[field.Name] = marker;
                where = field.Name;
                break;
        }

        var kind = i % 3;
        if (kind == 2)
        {
            // A duplicated key: the same field twice, with the same or another value, or spelled in another case.
            body.Remove(field.Name);
            var text = JsonText(body);
            var first = ValidValue(field, owner).ToJsonString();
            var second = random.Next(2) == 0 || field.Name is "email" or "provider" or "provider_id" ? ValidValue(field, owner).ToJsonString() : field.Kind switch
            {
                FieldKind.Text => "\"another value\"",
                FieldKind.TextList => "[\"other\"]",
                _ => "[{\"name\":\"writer\"}]",
            };
            var spelling = random.Next(4) == 0 ? char.ToUpperInvariant(field.Name[0]) + field.Name[1..] : field.Name;
            var pairs = $"\"{field.Name}\":{first},\"{spelling}\":{second}";
            text = text == "{}" ? "{" + pairs + "}" : "{" + pairs + "," + text[1..];
            draft.Body = Encoding.UTF8.GetBytes(text);
            draft.ContentType = "application/json";
            draft.Defects.Add($"text: duplicate key '{field.Name}'" + (spelling == field.Name ? "" : $" spelled '{spelling}'"));
            return draft;
        }

        var hostile = kind == 0
            ? Pick("\\u0000", "a\\u0000b", "value\\u0000", "\\u0000\\u0000")
            : Pick("\\uD800", "a\\uDFFFb", "\\uDC00\\uD800", "x\\uDBFF");
        var json = JsonText(body).Replace(JsonValue.Create(marker).ToJsonString()[1..^1], hostile, StringComparison.Ordinal);
        draft.Body = Encoding.UTF8.GetBytes(json);
        draft.ContentType = "application/json";
        draft.Defects.Add(kind == 0 ? $"text: NUL in '{where}'" : $"text: lone surrogate in '{where}'");
        return draft;
    }

    /// <summary>Bodies over 256 KiB, with Content-Length and chunked without it.</summary>
    Draft Oversized(int i)
    {
        var (route, method, shape) = BodyRoute(i);
        var owner = RandomOwner();
        var draft = Baseline("size", route, method, owner);
        draft.Key = owner == targets.A ? KeyKind.CallerA : KeyKind.CallerB;
        var body = shape?.ValidBody!(Context(owner)) ?? new JsonObject { ["name"] = "x" };
        var target = RequestBody.MaxBytes + 1 + (random.Next(2) == 0 ? 0 : random.Next(1, 64 * 1024));
        var field = shape?.Fields.FirstOrDefault(f => f.Kind == FieldKind.Text)?.Name is { } text && random.Next(2) == 0 ? text : "padding";
        body[field] = "";
        body[field] = new string('p', target - Encoding.UTF8.GetByteCount(JsonText(body)));
        SetJson(draft, body);
        draft.Chunked = i % 2 == 1;
        draft.Defects.Add($"size: {draft.Body!.Length} bytes{(draft.Chunked ? ", chunked" : "")}" + (shape is null ? $" (assumed read: {route.Template} has no shape)" : ""));
        return draft;
    }

    // ---- Building blocks --------------------------------------------------------------------------------------

    /// <summary>A request the owner could send to this route and method: own ids the route would act on, a valid body.</summary>
    Draft Baseline(string category, CatalogRoute route, string method, AccountIds owner)
    {
        var draft = new Draft(category) { Route = route, Method = method, Key = owner == targets.A ? KeyKind.CallerA : KeyKind.CallerB, Owner = owner };
        foreach (var (k, v) in OwnIds(route, method, owner))
        {
            draft.Ids[k] = v;
        }

        if (RouteShapes.Find(method, route.Template)?.ValidBody is { } valid)
        {
            SetJson(draft, valid(Context(owner)));
        }

        return draft;
    }

    /// <summary>The owner's ids for the route: a target the method would act on where there is one.</summary>
    Dictionary<string, string> OwnIds(CatalogRoute route, string method, AccountIds owner)
    {
        var fills = Fills(route, owner);
        if (fills.Count == 0)
        {
            return route.Parameters.ToDictionary(p => p, _ => "unknown_" + RandomId(12));
        }

        var shape = RouteShapes.Find(method, route.Template);
        var acting = fills.Where(f => shape?.Conflict(owner, f) is null).ToList();
        var pool = acting.Count > 0 ? acting : fills;
        return new Dictionary<string, string>(pool[random.Next(pool.Count)]);
    }

    static IReadOnlyList<IReadOnlyDictionary<string, string>> Fills(CatalogRoute route, AccountIds owner)
    {
        try
        {
            return owner.Fill(route);
        }
        catch (UnknownRouteParameterException)
        {
            // A parameter of a route added later: it is fuzzed with made-up ids only.
            return [];
        }
    }

    /// <summary>A value for one parameter that names nothing the caller (the owner of the other ids) may act on.</summary>
    (string Label, string Raw, bool MayRefuse) HostileIdFor(string parameter, IReadOnlyDictionary<string, string> current, AccountIds owner, AccountIds other)
    {
        var foreign = parameter switch
        {
            "runId" => Pick(other.WaitingRunId, other.CompletedRunId, other.CancelledRunId),
            "providerId" => other.ProviderId,
            "webhookId" => other.WebhookId,
            "serverId" => other.ToolServerId,
            _ => null,
        };
        var wellFormedUnknown = parameter switch
        {
            "runId" => "run_" + RandomId(20),
            "providerId" => "prv_" + RandomId(16),
            "webhookId" => "whk_" + RandomId(20),
            "serverId" => "mcs_" + RandomId(20),
            "taskId" => Pick("T0", "T99", "T" + random.Next(2, 40), "T1000000"),
            _ => "x_" + RandomId(10),
        };
        var ownOther = parameter switch
        {
            "runId" => owner.ProviderId,
            "providerId" => owner.WaitingRunId,
            "webhookId" => owner.ProviderId,
            "serverId" => owner.WebhookId,
            "taskId" => Pick("t1", "T01", "T1%20", "T1%2F", "~status", "~run", "~final", "%7Estatus", "T1~0000", "%20T1"),
            _ => owner.AccountId,
        };
        var choice = random.Next(28);
        return choice switch
        {
            0 when foreign is not null && !current.ContainsKey("taskId") => ("another account's", foreign, false),
            0 or 1 => ("well-formed but unknown", wellFormedUnknown, false),
            2 => ("an id of another kind", ownOther, false),
            3 => ("an account id", owner.AccountId, false),
            4 => ("dot-dot-slash, encoded", "..%2F..%2Fetc%2Fpasswd", false),
            5 => ("dot-dot-slash, lower-case escapes", "%2e%2e%2f%2e%2e%2fetc", false),
            6 => ("backslashes", "..\\..\\windows\\win.ini", false),
            7 => ("encoded backslashes", "..%5C..%5Cwindows", false),
            8 => ("an encoded slash", current.GetValueOrDefault(parameter, "x") + "%2Fx", false),
            9 => ("a double-encoded slash", "..%252F..%252F", false),
            10 => ("an encoded NUL", Pick("%00", current.GetValueOrDefault(parameter, "x") + "%00", "a%00b"), true),
            11 => ("a lone percent or bad escape", Pick("%", "%zz", "%2", "run_%G0"), false),
            12 => ("an encoded lone surrogate", "%ED%A0%80", false),
            13 => ("invalid UTF-8", Pick("%FF%FE%FD", "%C0%AF", "%C3%28", "%F8%88%80%80%80"), false),
            14 => ("a right-to-left override", "run_%E2%80%AEtxt.exe", false),
            15 => ("an emoji", "run_%F0%9F%92%A5", false),
            16 => ("a combining accent", "run_e%CC%81", false),
            17 => ("whitespace", Pick("%20", "%09", "run_%20", "%C2%A0"), false),
            18 => ("a CR or LF", Pick("run_%0D%0AX-Injected:%201", "%0A"), false),
            19 => ("markup", "%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E", false),
            20 => ("an OData filter", "x'%20or%20PartitionKey%20ne%20'", false),
            21 => ("65 characters", "run_" + new string('a', 61), false),
            22 => ("64 characters, unknown", "run_" + new string('a', 60), false),
            23 => ("4,000 characters", "run_" + new string('a', 3996), false),
            24 => ("9,000 characters (over the server's request-line limit)", "run_" + new string('a', 8996), true),
            25 => ("upper-cased", current.GetValueOrDefault(parameter, "x").ToUpperInvariant() is var up && up != current.GetValueOrDefault(parameter, "x") ? up : "RUN_X", false),
            26 => ("a wildcard", Pick("*", "%2A", "run_*"), false),
            _ => ("SQL", "1%3B%20DROP%20TABLE%20runs", false),
        };
    }

    (string Raw, string Label) InvalidNumber(QueryField field)
    {
        var choices = new List<(string, string)>
        {
            ((field.Min - 1).ToString(), "one below its range"),
            ((field.Max + 1).ToString(), "one above its range"),
            ("abc", "not a number"), ("1e2", "in exponent form"), ("0x10", "hexadecimal"), ("5.0", "a decimal"),
            ("1,0", "with a comma"), ("%00", "an encoded NUL"), ("99999999999999999999", "over 64 bits"),
            ("2147483648", "over 32 bits"), ("-2147483649", "under 32 bits"), ("%EF%BC%95", "a full-width digit"), ("NaN", "NaN"),
            ("null", "the word null"), ("[]", "brackets"), ("5;", "with a semicolon"), ("5%00", "followed by NUL"), ("--5", "with two signs"),
        };
        return choices[random.Next(choices.Count)];
    }

    /// <summary>Routes and methods that read a body, spread evenly; those without a shape are assumed to read JSON.</summary>
    (CatalogRoute Route, string Method, RouteShape? Shape) BodyRoute(int i)
    {
        var known = RouteMethods(includePublic: true)
            .Select(p => (p.Route, p.Method, Shape: RouteShapes.Find(p.Method, p.Route.Template)))
            .Where(p => p.Shape?.ReadsBody == true || (p.Shape is null && IsMutating(p.Method)))
            .ToList();
        return known[i % known.Count];
    }

    (CatalogRoute Route, string Method, RouteShape Shape, BodyField Field) BodyField(int i)
    {
        var fields = BodyFields();
        return fields[i % fields.Count];
    }

    List<(CatalogRoute Route, string Method, RouteShape Shape, BodyField Field)> BodyFields() =>
        RouteMethods(includePublic: true)
            .Select(p => (p.Route, p.Method, Shape: RouteShapes.Find(p.Method, p.Route.Template)))
            .Where(p => p.Shape?.ReadsBody == true)
            .SelectMany(p => p.Shape!.Fields.Select(f => (p.Route, p.Method, p.Shape!, f)))
            .ToList();

    IEnumerable<(CatalogRoute Route, string Method)> RouteMethods(bool includePublic = false) =>
        routes.SelectMany(r => r.Methods.Select(m => (Route: r, Method: m))).Where(p => includePublic || !p.Route.IsPublic(p.Method));

    CatalogRoute? Route(string template) => routes.FirstOrDefault(r => r.Template == template);

    /// <summary>Mostly account A; one request in five comes from B, with B's own ids.</summary>
    AccountIds RandomOwner() => random.Next(5) == 0 ? targets.B : targets.A;

    ShapeContext Context(AccountIds caller) => new(caller, random, () => $"fuzz-{seed}-{++emails}@example.com");

    /// <summary>A value the field accepts on its own, so that a duplicated key is the only thing wrong.</summary>
    JsonNode ValidValue(BodyField field, AccountIds owner) => field.Kind switch
    {
        FieldKind.TextList => new JsonArray("company details"),
        FieldKind.AgentList => new JsonArray(new JsonObject { ["name"] = "research" }),
        _ => field.Name switch
        {
            "email" => Context(owner).FreshEmail(),
            "provider" => "openai",
            "provider_id" => owner.ProviderId,
            "endpoint" => "https://llm.example.com/v1",
            _ => "Fine, " + RandomId(4),
        },
    };

    (string Label, JsonNode? Value, bool Remove) WrongType(BodyField field)
    {
        var common = new List<(string, JsonNode?)>
        {
            ("is a number", 42), ("is a negative number", -1), ("is a fraction", 1.5), ("is true", true), ("is false", false),
            ("is an empty array", new JsonArray()), ("is an array of text", new JsonArray("x")), ("is an empty object", new JsonObject()),
            ("is an object", new JsonObject { ["x"] = "y" }), ("is a string", "text"),
        };
        var choices = field.Kind switch
        {
            FieldKind.Text => common.Where(c => c.Item1 != "is a string").Concat([("is empty", ""), ("is whitespace", " \t\n ")]).ToList(),
            FieldKind.Bool => [("is the text 'true'", "true"), ("is 1", 1), ("is 0", 0), ("is 'yes'", "yes"), ("is an array", new JsonArray()), ("is an object", new JsonObject())],
            FieldKind.Int => [("is the text '86400'", "86400"), ("is true", true), ("is a fraction", 1.5), ("is an array", new JsonArray()), ("is an object", new JsonObject()), ("is '1e3'", "1e3")],
            FieldKind.TextList =>
            [
                ("is a string", "x"), ("is a number", 42), ("is an object", new JsonObject()), ("holds a number", new JsonArray(1)),
                ("holds true", new JsonArray(true)), ("holds an array", new JsonArray(new JsonArray())), ("holds an object", new JsonArray(new JsonObject())),
                ("holds null", new JsonArray((JsonNode?)null)), ("holds an empty string", new JsonArray("")), ("holds whitespace", new JsonArray("   ")),
            ],
            _ =>
            [
                ("is a string", "research"), ("is an object", new JsonObject { ["name"] = "research" }), ("holds a number", new JsonArray(42)),
                ("holds a string", new JsonArray("research")), ("holds a name that is a number", new JsonArray(new JsonObject { ["name"] = 42 })),
                ("holds instructions that are a number", new JsonArray(new JsonObject { ["name"] = "research", ["instructions"] = 42 })),
                ("holds null", new JsonArray((JsonNode?)null)), ("holds an object without a name", new JsonArray(new JsonObject())),
                ("holds an empty name", new JsonArray(new JsonObject { ["name"] = "" })),
            ],
        };
        if (field.Required)
        {
            choices.Add(("is null", null));
            choices.Add(("is missing", null));
        }

        var (label, value) = choices[random.Next(choices.Count)];
        return (label, value, label == "is missing");
    }

    (string Label, JsonNode Node)? OverBound(BodyField field)
    {
        string Over(int max) => random.Next(3) switch
        {
            0 => new string('a', max + 1),
            1 => string.Concat(Enumerable.Repeat("é", max + 1)),
            _ => "x" + new string(' ', max - 1) + "y",
        };

        switch (field.Kind)
        {
            case FieldKind.Text when field.MaxLength > 0:
                return ($"is {field.MaxLength + 1} characters, over its {field.MaxLength}", Over(field.MaxLength));
            case FieldKind.TextList when random.Next(2) == 0:
                return ($"has {field.MaxItems + 1} items, over its {field.MaxItems}",
                    new JsonArray(Enumerable.Range(0, field.MaxItems + 1).Select(n => (JsonNode?)JsonValue.Create($"topic {n}")).ToArray()));
            case FieldKind.TextList:
                return ($"has an item of {field.ItemMaxLength + 1} characters", new JsonArray("fine", Over(field.ItemMaxLength)));
            case FieldKind.AgentList:
                return random.Next(3) switch
                {
                    0 => ($"has {field.MaxItems + 1} agents, over its {field.MaxItems}", new JsonArray(Enumerable.Range(0, field.MaxItems + 1)
                        .Select(n => (JsonNode?)new JsonObject { ["name"] = $"agent{n}", ["instructions"] = "Do one thing." }).ToArray())),
                    1 => ("has a name of 65 characters", new JsonArray(new JsonObject { ["name"] = "a" + new string('b', 64), ["instructions"] = "x" })),
                    _ => ("has instructions of 4,001 characters", new JsonArray(new JsonObject { ["name"] = "research", ["instructions"] = Over(4000) })),
                };
            case FieldKind.Int:
                // In turn rather than at random: the int fields are few, and every kind of bad number must be sent.
                var (label, raw) = (intVariant++ % 8) switch
                {
                    0 => ("is one below its range", (field.Min - 1).ToString()),
                    1 => ("is one above its range", (field.Max + 1).ToString()),
                    2 => ("is over 32 bits", "2147483648"),
                    3 => ("is under 32 bits", "-2147483649"),
                    4 => ("is 1e400", "1e400"),
                    5 => ("has 26 digits", "99999999999999999999999999"),
                    6 => ("is 1e309", "1e309"),
                    _ => ("is -0.5", "-0.5"),
                };
                return (label, JsonNode.Parse(raw)!);
            default:
                return null;
        }
    }

    /// <summary>A value the route's own rules refuse (unknown enum, bad email, missing answer…), set in the body.</summary>
    string? Semantic(RouteShape shape, JsonObject body)
    {
        switch (shape.Template)
        {
            case "api/v1/auth/register":
                var email = Pick("not-an-email", "a@b", "@example.com", "a@@example.com", "a b@example.com", "<a@example.com>",
                    "Name <a@example.com>", "a@example.com, b@example.com", "a@example.com;b@example.com");
                body["email"] = email;
                return $"'email' is '{email}'";
            case "api/v1/runs":
                switch (random.Next(3))
                {
                    case 0:
                        var (label, agents) = Pick(
                            ("an unknown agent without instructions", new JsonArray(new JsonObject { ["name"] = "hacker" })),
                            ("an agent name in upper case", new JsonArray(new JsonObject { ["name"] = "Research" })),
                            ("an agent name starting with a digit", new JsonArray(new JsonObject { ["name"] = "1abc", ["instructions"] = "x" })),
                            ("an agent name with a space", new JsonArray(new JsonObject { ["name"] = "a b", ["instructions"] = "x" })),
                            ("an agent name with a path", new JsonArray(new JsonObject { ["name"] = "../x", ["instructions"] = "x" })),
                            ("an agent listed twice", new JsonArray(new JsonObject { ["name"] = "research" }, new JsonObject { ["name"] = "research" })));
                        body["agents"] = agents;
                        return "'agents' has " + label;
                    case 1:
                        body["provider_id"] = Pick("", "   ", "\t");
                        return "'provider_id' is blank";
                    default:
                        body["human_timeout_seconds"] = Pick(0, -1, RunsFunctions.MaxTimeoutSeconds + 1);
                        return "'human_timeout_seconds' is out of range";
                }
            case "api/v1/runs/{runId}/tasks/{taskId}/complete":
                var (what, answer) = Pick(
                    ("no output for a human task", new JsonObject()),
                    ("an approval without an output for a human task", new JsonObject { ["approved"] = true }),
                    ("a rejection for a human task", new JsonObject { ["approved"] = false, ["feedback"] = "Redo it." }),
                    ("feedback only for a human task", new JsonObject { ["feedback"] = "Shorter." }),
                    ("approved null for a human task", new JsonObject { ["approved"] = null }));
                body.Clear();
                foreach (var (k, v) in answer.ToList())
                {
                    answer.Remove(k);
                    body[k] = v;
                }

                return what;
            case "api/v1/providers":
                switch (random.Next(3))
                {
                    case 0:
                        var kind = Pick("OpenAI", "open_ai", "ollama", "azure", "openai,gemini");
                        body["provider"] = kind;
                        return $"'provider' is '{kind}'";
                    case 1:
                        body["provider"] = Pick("azure_openai", "openai_compatible");
                        body.Remove("endpoint");
                        return "'endpoint' is missing for a provider that needs one";
                    default:
                        var endpoint = Pick("ftp://example.com/v1", "https://user:pw@example.com/v1", "/v1", "example.com/v1",
                            "javascript:alert(1)", "file:///etc/passwd", "http://", "gopher://example.com");
                        body["endpoint"] = endpoint;
                        return $"'endpoint' is '{endpoint}'";
                }
            case "api/v1/runs/{runId}/plan/review":
                var (verdict, review) = Pick(
                    ("a rejection without feedback", new JsonObject { ["approved"] = false }),
                    ("a rejection with an edited plan", new JsonObject { ["approved"] = false, ["feedback"] = "x", ["plan"] = new JsonObject { ["tasks"] = new JsonArray() } }),
                    ("an approval with feedback", new JsonObject { ["approved"] = true, ["feedback"] = "Fine." }),
                    ("an edited plan without tasks", new JsonObject { ["approved"] = true, ["plan"] = new JsonObject() }),
                    ("an edited plan with a cycle", new JsonObject
                    {
                        ["approved"] = true,
                        ["plan"] = new JsonObject
                        {
                            ["tasks"] = new JsonArray(
                                new JsonObject { ["task_id"] = "T1", ["name"] = "a", ["kind"] = "agent", ["agent"] = "research", ["depends_on"] = new JsonArray("T2") },
                                new JsonObject { ["task_id"] = "T2", ["name"] = "b", ["kind"] = "agent", ["agent"] = "research", ["depends_on"] = new JsonArray("T1") }),
                        },
                    }));
                body.Clear();
                foreach (var (k, v) in review.ToList())
                {
                    review.Remove(k);
                    body[k] = v;
                }

                return verdict;
            case "api/v1/webhooks":
                if (random.Next(2) == 0)
                {
                    var url = Pick("ftp://hooks.example.com/x", "https://user:pw@hooks.example.com/x", "/relative/hook", "hooks.example.com/x",
                        "javascript:alert(1)", "http://hooks.example.com/x", "file:///etc/passwd", "https://");
                    body["url"] = url;
                    return $"'url' is '{url}'";
                }

                var (which, events) = Pick(
                    ("an unknown event type", new JsonArray("run.exploded")),
                    ("an event type twice", new JsonArray("run.completed", "run.completed")),
                    ("no event type", new JsonArray()),
                    ("an event type in upper case", new JsonArray("RUN.COMPLETED")),
                    ("an event type with a wildcard", new JsonArray("run.*")));
                body["events"] = events;
                return "'events' has " + which;
            case "api/v1/tool-servers":
                if (random.Next(2) == 0)
                {
                    var url = Pick("ftp://tools.example.com/mcp", "https://user:pw@tools.example.com/mcp", "/mcp", "tools.example.com/mcp",
                        "javascript:alert(1)", "http://tools.example.com/mcp", "file:///etc/passwd", "https://");
                    body["url"] = url;
                    return $"'url' is '{url}'";
                }

                var (flaw, headers) = Pick(
                    ("a header name with a space", new JsonObject { ["Bad Name"] = "x" }),
                    ("a header the transport sets", new JsonObject { ["Mcp-Session-Id"] = "forged" }),
                    ("a header value with a line break", new JsonObject { ["Authorization"] = "Bearer a\r\nX-Injected: 1" }),
                    ("an empty header value", new JsonObject { ["Authorization"] = "" }),
                    ("a header value that is a number", new JsonObject { ["X-Org"] = 42 }),
                    ("a header named twice in two cases", new JsonObject { ["Authorization"] = "a", ["authorization"] = "b" }),
                    ("headers that are an array", (JsonNode)new JsonArray("Authorization: x")));
                body["headers"] = headers;
                return "'headers' has " + flaw;
            default:
                return null;
        }
    }

    /// <summary>The valid body's text broken in one of many ways that no JSON parser may accept as one object.</summary>
    (string Label, byte[] Bytes) Corrupt(string text)
    {
        byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
        if (!text.Contains("\":\"", StringComparison.Ordinal))
        {
            text = "{\"x\":\"a\"," + text[1..];
        }

        var firstString = text.IndexOf("\":\"", StringComparison.Ordinal) + 3;

        byte[] InString(byte[] inject)
        {
            var bytes = Utf8(text);
            var cut = Encoding.UTF8.GetByteCount(text[..firstString]);
            return [.. bytes.AsSpan(0, cut), .. inject, .. bytes.AsSpan(cut)];
        }

        var depth = Pick(40, 64, 1000, 10_000);
        switch (random.Next(30))
        {
            case 0:
                var n = random.Next(0, text.Length);
                return ($"truncated to {n} of {text.Length} characters", Utf8(text[..n]));
            case 1: return ("without its closing brace", Utf8(text[..^1]));
            case 2: return ("with a trailing comma", Utf8(text[..^1] + ",}"));
            case 3: return ("with single quotes", Utf8(text.Replace('"', '\'')));
            case 4: return ("with a block comment", Utf8("/* note */" + text));
            case 5: return ("with a line comment", Utf8("{// note\n" + text[1..]));
            case 6: return ("with unquoted keys", Utf8(System.Text.RegularExpressions.Regex.Replace(text, "\"(\\w+)\":", "$1:")));
            case 7: return ("with NaN", Utf8("{\"x\":NaN," + text[1..]));
            case 8: return ("with Infinity", Utf8("{\"x\":-Infinity," + text[1..]));
            case 9: return ("with trailing garbage", Utf8(text + Pick("x", "}", " {}", "\n{\"a\":1}", ";")));
            case 10: return ("with a leading prefix", Utf8(Pick(")]}',\n", "x", "\uFEFFx") + text));
            case 11:
                var bare = Pick("\"text\"", "42", "true", "false", "null", "[]", "[" + text + "]", "\"" + text.Replace("\"", "\\\"") + "\"");
                return ($"a bare {bare[..Math.Min(bare.Length, 12)]}", Utf8(bare));
            case 12: return ("whitespace only", Utf8(Pick(" ", "\n\t\r ", new string(' ', 4096))));
            case 13: return ("empty", []);
            case 14: return ("in UTF-16 with a BOM", [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(text)]);
            case 15: return ("in UTF-16 without a BOM", Encoding.Unicode.GetBytes(text));
            case 16: return ("in UTF-32", Encoding.UTF32.GetBytes(text));
            case 17: return ("with a raw control character in a string", InString([0x01]));
            case 18: return ("with a raw line break in a string", InString("\n"u8.ToArray()));
            case 19: return ("with a raw NUL byte in a string", InString([0x00]));
            case 20:
                var (what, bytes) = Pick<(string, byte[])>(
                    ("C3 28", [0xC3, 0x28]), ("FF", [0xFF]), ("an encoded surrogate ED A0 80", [0xED, 0xA0, 0x80]),
                    ("an overlong slash C0 AF", [0xC0, 0xAF]), ("a cut sequence E2 82", [0xE2, 0x82]),
                    ("a five-byte sequence", [0xF8, 0x88, 0x80, 0x80, 0x80]), ("a code point past U+10FFFF", [0xF4, 0x90, 0x80, 0x80]));
                return ($"with invalid UTF-8 ({what}) in a string", InString(bytes));
            case 21: return ($"nested {depth} deep in a field", Utf8("{\"x\":" + new string('[', depth) + new string(']', depth) + "," + text[1..]));
            case 22:
                var nested = string.Concat(Enumerable.Repeat("{\"x\":", depth)) + "1" + new string('}', depth);
                return ($"nested {depth} objects deep", Utf8("{\"deep\":" + nested + "," + text[1..]));
            case 23:
                // Not a lone backslash: placed before a string that starts with an escape, it would make a valid "\\".
                var escape = Pick("\\x41", "\\u12", "\\uZZZZ", "\\q", "\\ ");
                return ($"with the bad escape {escape}", Utf8(text[..firstString] + escape + text[firstString..]));
            case 24: return ("with an unterminated string", Utf8(text[..(firstString + 1)]));
            case 25: return ("with a key and no value", Utf8("{\"x\":," + text[1..]));
            case 26: return ("with two commas", Utf8("{\"x\":1,," + text[1..]));
            case 27:
                var number = Pick("01", "1.", ".5", "+1", "0x10", "1e", "--1", "1_000");
                return ($"with the number {number}", Utf8("{\"x\":" + number + "," + text[1..]));
            case 28: return ("with a key that is not a string", Utf8("{1:2," + text[1..]));
            default: return ("an array of members", Utf8("[" + text[1..^1] + "]"));
        }
    }

    void AnyBody(Draft draft, AccountIds owner)
    {
        var shapes = RouteShapes.All.Where(s => s.ReadsBody).ToList();
        SetJson(draft, shapes[random.Next(shapes.Count)].ValidBody!(Context(owner)));
    }

    /// <summary>Headers that must change nothing: odd Accept values, conditionals, method overrides, forwarding, padding.</summary>
    void Decorate(Draft draft)
    {
        var (name, value) = Pick(
            ("Accept", "text/event-stream"), ("Accept", "application/xml"), ("Accept", "*/*;q=0"), ("If-None-Match", "*"),
            ("If-None-Match", "\"etag\""), ("Idempotency-Key", RandomId(24)), ("Idempotency-Key", new string('k', 300)), ("Idempotency-Key", ""),
            ("X-HTTP-Method-Override", "DELETE"), ("X-HTTP-Method", "DELETE"), ("X-Forwarded-For", "10.0.0.1, 127.0.0.1"),
            ("X-Forwarded-Host", "evil.example"), ("X-Original-URL", "/api/v1/runs/" + targets.A.WaitingRunId), ("Origin", "https://evil.example"),
            ("Range", "bytes=0-10"), ("Cookie", "session=fuzz"), ("Last-Event-ID", "-1"), ("Accept-Charset", "utf-16"),
            ("Content-Language", "xx"), ("X-Padding", new string('p', 6000)), ("X-Padding", new string('p', 40_000)));
        draft.Headers.Add(new(name, value));
        draft.ServerMayRefuse |= value.Length > 32 * 1024;
    }

    void SetJson(Draft draft, JsonObject body)
    {
        draft.Body = Encoding.UTF8.GetBytes(JsonText(body));
        draft.ContentType = "application/json";
    }

    static string JsonText(JsonObject body) => body.ToJsonString();

    string RandomId(int length) => string.Concat(Enumerable.Range(0, length).Select(_ => IdAlphabet[random.Next(IdAlphabet.Length)]));

    T Pick<T>(params T[] choices) => choices[random.Next(choices.Length)];

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
