using System.Net;

namespace Orchflow.Tests.Integration.Api;

/// <summary>The scenarios of an account's API keys and of closing the account.</summary>
public sealed partial class OpenApiContractTests
{
    async Task CreateKeyScenario()
    {
        using var client = await NewAccountAsync();

        await Expect(HttpStatusCode.Created, Call("createKey", client, "auth/keys", new { label = "Contract" }));
        await ExpectProblem("validation_failed", Call("createKey", client, "auth/keys", new { label = "" }));
        await Expect(HttpStatusCode.RequestEntityTooLarge, Call("createKey", client, "auth/keys", raw: Oversized));
        for (var i = 2; i < 20; i++)
        {
            await Expect(HttpStatusCode.Created, Call("createKey", client, "auth/keys", new { label = $"Key {i}" }));
        }

        await ExpectProblem("conflict", Call("createKey", client, "auth/keys", new { label = "One too many" }));
        await Expect(HttpStatusCode.Unauthorized, Call("createKey", Anonymous, "auth/keys", new { label = "Contract" }));
    }

    async Task ListKeysScenario()
    {
        using var client = await NewAccountAsync();
        await Expect(HttpStatusCode.Created, Call("createKey", client, "auth/keys", new { label = "Second" }));

        var list = await Expect(HttpStatusCode.OK, Call("listKeys", client, "auth/keys"));
        Assert.That(list.Json!["keys"]!.AsArray(), Has.Count.EqualTo(2));
        await Expect(HttpStatusCode.Unauthorized, Call("listKeys", Anonymous, "auth/keys"));
    }

    async Task RevokeKeyScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var created = await Expect(HttpStatusCode.Created, Call("createKey", client, "auth/keys", new { label = "Revoked" }));
        var path = $"auth/keys/{created.Json!.Str("key_id")}";

        await ExpectProblem("not_found", Call("revokeKey", other, path));
        await Expect(HttpStatusCode.NoContent, Call("revokeKey", client, path));
        await ExpectProblem("not_found", Call("revokeKey", client, path));
        var own = (await Expect(HttpStatusCode.OK, Call("listKeys", client, "auth/keys"))).Json!["keys"]![0]!.Str("key_id");
        await ExpectProblem("conflict", Call("revokeKey", client, $"auth/keys/{own}"));
        await Expect(HttpStatusCode.Unauthorized, Call("revokeKey", Anonymous, path));
    }

    async Task CloseAccountScenario()
    {
        using var client = await NewAccountAsync();
        await StartAsync(client, new { task = Goal, ask_me_about = new[] { "company details" } });

        await Expect(HttpStatusCode.Accepted, Call("closeAccount", client, "account"));
        await Expect(HttpStatusCode.Unauthorized, Call("closeAccount", client, "account"));
        await Expect(HttpStatusCode.Unauthorized, Call("closeAccount", Anonymous, "account"));
    }
}
