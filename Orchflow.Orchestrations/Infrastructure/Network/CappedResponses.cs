using System.IO.Compression;
using System.Net;

namespace Orchflow.Infrastructure.Network;

/// <summary>
/// A handler that reads at most <c>limit</c> bytes of an answer as sent and again as decompressed (gzip, deflate,
/// br: it asks for them and undoes them itself, so both counts are kept), and throws <c>overLimit</c> past either, so
/// a small body that inflates to gigabytes, or one that never ends, costs at most the limit. Answers with a
/// Content-Length over the limit are refused before their body is read.
/// </summary>
public sealed class CappedResponses(long limit, Func<long, Exception> overLimit) : DelegatingHandler
{
    static readonly string[] Encodings = ["gzip", "deflate", "br"];

    /// <summary>The most read of one answer, as sent and as decompressed.</summary>
    public long Limit => limit;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Headers.AcceptEncoding.Count == 0)
        {
            foreach (var encoding in Encodings)
            {
                request.Headers.AcceptEncoding.ParseAdd(encoding);
            }
        }

        var response = await base.SendAsync(request, cancellationToken);
        if (response.Content.Headers.ContentLength > limit)
        {
            response.Dispose();
            throw overLimit(limit);
        }

        var encodings = response.Content.Headers.ContentEncoding.Select(e => e.ToLowerInvariant()).ToList();
        Func<Stream, Stream>? decoder = encodings switch
        {
            [] or ["identity"] => null,
            ["gzip"] or ["x-gzip"] => s => new GZipStream(s, CompressionMode.Decompress),
            ["deflate"] => s => new ZLibStream(s, CompressionMode.Decompress),
            ["br"] => s => new BrotliStream(s, CompressionMode.Decompress),
            // An encoding nothing here reads is passed on as it came, still capped: the reader will not make sense of it.
            _ => null,
        };
        var capped = new LimitedContent(response.Content, limit, () => overLimit(limit), decoder);
        if (decoder is not null)
        {
            capped.Headers.ContentEncoding.Clear();
            capped.Headers.ContentLength = null;
        }

        response.Content = capped;
        return response;
    }
}

/// <summary>
/// A response body read through <see cref="LimitedStream"/>s that throw past the limit: once as sent and, with a
/// decoder, once more as decoded.
/// </summary>
public sealed class LimitedContent : HttpContent
{
    readonly HttpContent inner;
    readonly long limit;
    readonly Func<Exception> overLimit;
    readonly Func<Stream, Stream>? decoder;

    public LimitedContent(HttpContent inner, long limit, Func<Exception> overLimit, Func<Stream, Stream>? decoder = null)
    {
        this.inner = inner;
        this.limit = limit;
        this.overLimit = overLimit;
        this.decoder = decoder;
        foreach (var header in inner.Headers)
        {
            Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await using var source = await CreateContentReadStreamAsync(cancellationToken);
        await source.CopyToAsync(stream, cancellationToken);
    }

    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken)
    {
        Stream sent = new LimitedStream(await inner.ReadAsStreamAsync(cancellationToken), limit, overLimit);
        return decoder is null ? sent : new LimitedStream(decoder(sent), limit, overLimit);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
