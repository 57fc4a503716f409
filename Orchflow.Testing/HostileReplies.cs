using System.IO.Compression;
using System.Text;

namespace Orchflow.Testing;

/// <summary>
/// Answers a hostile endpoint gives, written as they go so that none is ever held in memory: a small gzip body that
/// inflates to GiBs, a body with no end, a byte a second, a redirect to a cloud metadata address. For
/// <see cref="FakeChatServer"/> (a provider) and <see cref="LoopbackMcpServer"/> (a tool server) alike.
/// </summary>
public static class HostileReplies
{
    /// <summary>Where the clouds' metadata services answer (AWS, Azure, Google Cloud…).</summary>
    public const string MetadataUrl = "http://169.254.169.254/latest/meta-data/iam/security-credentials/";

    /// <summary>16 MiB of spaces, gzipped once (about 16 KiB): the bomb repeats this member, which a gzip reader reads as one stream.</summary>
    const int MemberBytes = 16 * 1024 * 1024;

    static readonly Lazy<byte[]> Member = new(() =>
    {
        using var packed = new MemoryStream();
        using (var gzip = new GZipStream(packed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var spaces = new byte[1024 * 1024];
            Array.Fill(spaces, (byte)' ');
            for (var i = 0; i < MemberBytes / spaces.Length; i++)
            {
                gzip.Write(spaces);
            }
        }

        return packed.ToArray();
    });

    /// <summary>
    /// A 200 whose gzip body inflates to <paramref name="inflatedBytes"/> bytes of spaces (whitespace a JSON or SSE reader
    /// keeps reading), about a thousandth of that on the wire; 2 GiB unless told.
    /// </summary>
    public static FakeReply GzipBomb(string contentType, long inflatedBytes = 2L * 1024 * 1024 * 1024) =>
        new(200, "", new Dictionary<string, string> { ["Content-Type"] = contentType, ["Content-Encoding"] = "gzip" })
        {
            Writer = async (body, cancellationToken) =>
            {
                for (long sent = 0; sent < inflatedBytes; sent += MemberBytes)
                {
                    await body.WriteAsync(Member.Value, cancellationToken);
                }
            },
        };

    /// <summary>A 200 whose body is <paramref name="unit"/> again and again, for ever.</summary>
    public static FakeReply Endless(string contentType, string unit) =>
        new(200, "", new Dictionary<string, string> { ["Content-Type"] = contentType })
        {
            Writer = async (body, cancellationToken) =>
            {
                var block = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(unit, Math.Max(1, 64 * 1024 / unit.Length))));
                while (true)
                {
                    await body.WriteAsync(block, cancellationToken);
                }
            },
        };

    /// <summary>A chat completion streamed for ever: chunk after chunk of text, never a finish reason nor [DONE].</summary>
    public static FakeReply EndlessCompletion() =>
        Endless("text/event-stream",
            "data: {\"id\":\"chatcmpl-endless\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"fake-model\"," +
            "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"and on \"},\"finish_reason\":null}]}\n\n");

    /// <summary>A 200 whose body comes one space every <paramref name="interval"/>, for ever.</summary>
    public static FakeReply Drip(string contentType, TimeSpan interval) =>
        new(200, "", new Dictionary<string, string> { ["Content-Type"] = contentType })
        {
            Writer = async (body, cancellationToken) =>
            {
                while (true)
                {
                    await body.WriteAsync(" "u8.ToArray(), cancellationToken);
                    await body.FlushAsync(cancellationToken);
                    await Task.Delay(interval, cancellationToken);
                }
            },
        };

    /// <summary>A redirect to <paramref name="location"/> (307 keeps the method and body, so a follower would POST the request there).</summary>
    public static FakeReply RedirectTo(string location = MetadataUrl, int status = 307) =>
        new(status, "", new Dictionary<string, string> { ["Location"] = location });
}
