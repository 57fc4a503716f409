using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Orchflow.Client;

namespace Orchflow.Tests.Client;

/// <summary>
/// <see cref="StandardWebhook"/> against the Standard Webhooks reference library (npm <c>standardwebhooks</c>): it
/// accepts and refuses exactly the library's vectors, and the library accepts what it signs.
/// </summary>
[TestFixture]
public sealed class StandardWebhookTests
{
    static readonly string Secret = "whsec_" + Convert.ToBase64String("a secret of at least twenty-four bytes, C"u8.ToArray());

    static async Task<JsonNode> ReferenceAsync(JsonArray theirs)
    {
        var start = new ProcessStartInfo("node", [Path.Combine(RepoPaths.Root, "Orchflow.Tests", "Support", "standard-webhooks-vectors.cjs")])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoPaths.Root,
        };
        using var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        await node.StandardInput.WriteAsync(theirs.ToJsonString());
        node.StandardInput.Close();
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await node.WaitForExitAsync(timeout.Token);
        Assert.That(node.ExitCode, Is.EqualTo(0), await errors);
        return JsonNode.Parse(await output)!;
    }

    [Test]
    public async Task Verify_TheReferenceLibrarysVectors_GivesTheLibrarysVerdicts()
    {
        var vectors = (await ReferenceAsync([]))["vectors"]!.AsArray();

        Assert.Multiple(() =>
        {
            Assert.That(vectors, Has.Count.GreaterThanOrEqualTo(10));
            Assert.That(vectors.Count(v => v!["ok"]!.GetValue<bool>()), Is.GreaterThanOrEqualTo(3), "some vectors verify");
            foreach (var vector in vectors)
            {
                var headers = vector!["headers"]!.AsObject().ToDictionary(h => h.Key, h => h.Value!.GetValue<string>());
                string? refusal = null;
                try
                {
                    StandardWebhook.Verify(vector["secret"]!.GetValue<string>(), headers, vector["body"]!.GetValue<string>());
                }
                catch (WebhookVerificationException e)
                {
                    refusal = e.Message;
                }

                Assert.That(refusal is null, Is.EqualTo(vector["ok"]!.GetValue<bool>()),
                    $"{vector["name"]}: the library says {vector["error"] ?? "ok"}, Verify says {refusal ?? "ok"}");
            }
        });
    }

    [Test]
    public async Task Signature_WhatItSigns_TheReferenceLibraryVerifies()
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        const string body = """{"type":"run.waiting_human","data":{"run_id":"run_0f3k9tq2zm7c8d1v4x6b","text":"café"}}""";
        var theirs = new JsonArray(new JsonObject
        {
            ["secret"] = Secret, ["id"] = "msg_ours", ["timestamp"] = timestamp, ["body"] = body,
            ["signature"] = StandardWebhook.Signature(Secret, "msg_ours", timestamp, body),
        });

        var verdict = (await ReferenceAsync(theirs))["verdicts"]![0]!;

        Assert.That(verdict["ok"]!.GetValue<bool>(), Is.True, verdict["error"]?.ToString());
    }

    [Test]
    public void Verify_MalformedTimestamp_IsRefused()
    {
        var headers = new Dictionary<string, string> { ["webhook-id"] = "msg_1", ["webhook-timestamp"] = "soon", ["webhook-signature"] = "v1,AAAA" };

        Assert.Throws<WebhookVerificationException>(() => StandardWebhook.Verify(Secret, headers, "{}"));
    }
}
