using Azure;
using Azure.Core;

namespace Orchflow.Tests.Infrastructure;

/// <summary>
/// A storage fault that Azurite never produces on its own: the first request of the method whose address or body holds
/// the text fails as a 503 would, before it is sent. Placed before the client's retries, so the failure reaches the caller.
/// </summary>
sealed class FailingRequests(string method, string holding) : StorageFault
{
    int failed;

    public int Failed => failed;

    protected override void Check(HttpMessage message)
    {
        if (failed > 0 || message.Request.Method.Method != method)
        {
            return;
        }

        using var body = new MemoryStream();
        message.Request.Content?.WriteTo(body, CancellationToken.None);
        if (Uri.UnescapeDataString(message.Request.Uri.ToString()).Contains(holding, StringComparison.Ordinal) ||
            System.Text.Encoding.UTF8.GetString(body.ToArray()).Contains(holding, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref failed);
            throw new RequestFailedException(503, "Injected: the storage service is unavailable.");
        }
    }
}
