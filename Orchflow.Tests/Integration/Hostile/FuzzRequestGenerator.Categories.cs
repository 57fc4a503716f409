using System.Text;
using System.Text.Json.Nodes;
using Orchflow.Functions.Http;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>The campaign's categories: one builder each, every request it builds carrying the defects it put in.</summary>
public sealed partial class FuzzRequestGenerator
{

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
        // Only bodies that carry text: a route whose fields are all numbers has no text to hide the marker in.
        var withText = BodyFields().Where(b => b.Shape.Fields.Any(f => f.Kind is FieldKind.Text or FieldKind.TextList or FieldKind.AgentList)).ToList();
        var (route, method, shape, _) = withText[i % withText.Count];
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
}
