using System.Text;
using System.Text.Json.Nodes;
using Orchflow.Functions.Http;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>The building blocks of a request: routes and methods, whose ids, which caller, and the headers and bodies around them.</summary>
public sealed partial class FuzzRequestGenerator
{

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
            "keyId" => other.KeyId,
            _ => null,
        };
        var wellFormedUnknown = parameter switch
        {
            "runId" => "run_" + RandomId(20),
            "providerId" => "prv_" + RandomId(16),
            "webhookId" => "whk_" + RandomId(20),
            "serverId" => "mcs_" + RandomId(20),
            "keyId" => "key_" + RandomId(20),
            "taskId" => Pick("T0", "T99", "T" + random.Next(2, 40), "T1000000"),
            _ => "x_" + RandomId(10),
        };
        var ownOther = parameter switch
        {
            "runId" => owner.ProviderId,
            "providerId" => owner.WaitingRunId,
            "webhookId" => owner.ProviderId,
            "serverId" => owner.WebhookId,
            "keyId" => owner.ProviderId,
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
}
