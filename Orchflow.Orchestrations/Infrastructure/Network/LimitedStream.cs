namespace Orchflow.Infrastructure.Network;

/// <summary>
/// A read-only view of a stream that gives at most <c>limit</c> bytes: past that it either ends (and says so in
/// <see cref="Exceeded"/>), for a page read in part, or throws, for a message that is worthless cut.
/// </summary>
public sealed class LimitedStream(Stream inner, long limit, Func<Exception>? overLimit = null) : Stream
{
    long read;

    /// <summary>Whether the stream had more than the limit (known once a read asked past it).</summary>
    public bool Exceeded { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer[..Room(buffer.Length)]);
        return Count(n, buffer.Length);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer[..Room(buffer.Length)], cancellationToken);
        return Count(n, buffer.Length);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>One byte more than the limit leaves is asked for, so that a stream of exactly the limit is not taken for a longer one.</summary>
    int Room(int wanted) => (int)Math.Min(wanted, Math.Max(0, limit - read + 1));

    int Count(int n, int wanted)
    {
        if (wanted > 0 && n == 0)
        {
            return 0;
        }

        read += n;
        if (read <= limit)
        {
            return n;
        }

        Exceeded = true;
        if (overLimit is not null)
        {
            throw overLimit();
        }

        return n - (int)(read - limit);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => read; set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

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
