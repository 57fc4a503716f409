namespace Orchflow.Tests.Client;

/// <summary>
/// Passes requests to the host as they are, but cuts the first event stream it sees once one whole event has come
/// through (a read then fails as a dropped connection would), so a client's reconnect can be watched. Records each
/// stream request's <c>Last-Event-ID</c>.
/// </summary>
public sealed class CuttingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    int cuts;

    /// <summary>The <c>Last-Event-ID</c> of each event stream request, in order (null when it had none).</summary>
    public List<string?> StreamRequests { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var isStream = request.Headers.Accept.Any(a => a.MediaType == "text/event-stream");
        if (isStream)
        {
            lock (StreamRequests)
            {
                StreamRequests.Add(request.Headers.TryGetValues("Last-Event-ID", out var values) ? values.Single() : null);
            }
        }

        var response = await base.SendAsync(request, cancellationToken);
        if (isStream && response.IsSuccessStatusCode && Interlocked.Increment(ref cuts) == 1)
        {
            var inner = response.Content;
            var content = new StreamContent(new CutAfterFirstEvent(await inner.ReadAsStreamAsync(cancellationToken)));
            foreach (var header in inner.Headers)
            {
                content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            response.Content = content;
        }

        return response;
    }

    /// <summary>Gives the bytes up to the end of the first event that has an id, then fails like a cut connection.</summary>
    sealed class CutAfterFirstEvent(Stream inner) : Stream
    {
        readonly List<byte> seen = [];
        bool cut;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (cut)
            {
                throw new IOException("The connection was cut (test).");
            }

            // One byte at a time, so nothing after the first event's end reaches the client.
            var read = await inner.ReadAsync(buffer[..1], cancellationToken);
            if (read == 1)
            {
                seen.Add(buffer.Span[0]);
                var text = System.Text.Encoding.UTF8.GetString(seen.ToArray());
                cut = text.Contains("\nid: ", StringComparison.Ordinal) || text.StartsWith("id: ", StringComparison.Ordinal)
                    ? text.EndsWith("\n\n", StringComparison.Ordinal)
                    : false;
            }

            return read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
