using System.IO.Compression;
using System.Text;
using Orchflow.Infrastructure.Network;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Infrastructure.Network;

/// <summary>
/// The cap on an answer's bytes, over real HTTP: an honest compressed answer is read whole, one that declares too many
/// bytes is refused unread, and bodies past the cap as sent or as decompressed throw the caller's exception.
/// </summary>
[TestFixture]
public sealed class CappedResponsesTests
{
    const int Cap = 64 * 1024;

    FakeChatServer server = null!;
    HttpClient http = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        server = await FakeChatServer.StartAsync();
        var transport = new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.None };
        http = new HttpClient(new CappedResponses(Cap, limit => new InvalidDataException($"over {limit}")) { InnerHandler = transport });
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        http.Dispose();
        await server.DisposeAsync();
    }

    [SetUp]
    public void Reset() => server.Reset();

    [TestCase("gzip")]
    [TestCase("deflate")]
    [TestCase("br")]
    public async Task Read_CompressedAnswerUnderTheCap_DecompressedWhole(string encoding)
    {
        var text = string.Concat(Enumerable.Repeat("{\"word\":\"honest\"} ", 2_000));
        server.Enqueue(Compressed(text, encoding));

        var read = await http.GetStringAsync(server.BaseUri);

        Assert.Multiple(() =>
        {
            Assert.That(read, Is.EqualTo(text));
            Assert.That(server.Requests.Single().Header("Accept-Encoding"), Is.EqualTo("gzip, deflate, br"));
        });
    }

    [Test]
    public void Read_DeclaredLengthOverTheCap_RefusedBeforeTheBody() =>
        Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            server.Enqueue(new FakeReply(200, new string('x', Cap + 1)));
            using var response = await http.GetAsync(server.BaseUri, HttpCompletionOption.ResponseHeadersRead);
        });

    [Test]
    public void Read_GzipBomb_ThrowsOnceTheDecompressedBytesPassTheCap()
    {
        server.Enqueue(HostileReplies.GzipBomb("application/json"));

        var e = Assert.ThrowsAsync<InvalidDataException>(() => http.GetStringAsync(server.BaseUri));

        Assert.That(e!.Message, Is.EqualTo($"over {Cap}"));
    }

    [Test]
    public void Read_EndlessBody_ThrowsOnceTheBytesSentPassTheCap()
    {
        server.Enqueue(HostileReplies.Endless("text/plain", "more "));

        Assert.ThrowsAsync<InvalidDataException>(() => http.GetStringAsync(server.BaseUri));
    }

    static FakeReply Compressed(string text, string encoding)
    {
        using var packed = new MemoryStream();
        using (Stream writer = encoding switch
        {
            "gzip" => new GZipStream(packed, CompressionLevel.Fastest, leaveOpen: true),
            "deflate" => new ZLibStream(packed, CompressionLevel.Fastest, leaveOpen: true),
            _ => new BrotliStream(packed, CompressionLevel.Fastest, leaveOpen: true),
        })
        {
            writer.Write(Encoding.UTF8.GetBytes(text));
        }

        var body = packed.ToArray();
        return new FakeReply(200, "", new Dictionary<string, string> { ["Content-Type"] = "application/json", ["Content-Encoding"] = encoding })
        {
            Writer = (stream, cancellationToken) => stream.WriteAsync(body, cancellationToken).AsTask(),
        };
    }
}
