using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Orchflow.Tests.Support;

/// <summary>
/// Checks deliveries with the Standard Webhooks reference verifier (npm <c>standardwebhooks</c>, installed in
/// tools/ by scripts/test.sh), run through node: what a receiver using the official library would accept.
/// </summary>
public static class StandardWebhooks
{
    static string Script => Path.Combine(RepoPaths.Root, "Orchflow.Tests", "Support", "verify-standard-webhooks.cjs");

    /// <summary>For each delivery and the secret to check it with, null when it verifies, else the library's reason.</summary>
    public static async Task<IReadOnlyList<string?>> VerifyAsync(IEnumerable<(ReceivedWebhook Delivery, string Secret)> checks)
    {
        var input = new JsonArray(checks.Select(c => (JsonNode?)new JsonObject
        {
            ["secret"] = c.Secret,
            ["body"] = c.Delivery.Body,
            ["headers"] = new JsonObject
            {
                ["webhook-id"] = c.Delivery.Header("webhook-id"),
                ["webhook-timestamp"] = c.Delivery.Header("webhook-timestamp"),
                ["webhook-signature"] = c.Delivery.Header("webhook-signature"),
            },
        }).ToArray());

        var start = new ProcessStartInfo("node", [Script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoPaths.Root,
        };
        using var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        await node.StandardInput.WriteAsync(input.ToJsonString());
        node.StandardInput.Close();
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            throw new TimeoutException("The Standard Webhooks verifier did not finish in 30 s.");
        }

        Assert.That(node.ExitCode, Is.EqualTo(0), "node " + Script + ": " + await errors);
        return JsonNode.Parse(await output)!.AsArray()
            .Select(r => r!["ok"]!.GetValue<bool>() ? null : r["error"]?.GetValue<string>() ?? "rejected")
            .ToList();
    }
}
