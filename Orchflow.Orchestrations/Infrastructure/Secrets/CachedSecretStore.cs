using System.Collections.Concurrent;
using Orchflow.Abstractions;

namespace Orchflow.Infrastructure.Secrets;

/// <summary>
/// The secret store every caller is given: what it reads is kept in memory for <see cref="KeepFor"/>, so a model call or
/// a webhook delivery does not ask Key Vault each time. This process's own writes and deletes drop a kept value at once;
/// another instance's are seen here once the value expires. A new provider key or a rotated webhook secret gets a new
/// name, so for them expiry bounds only how long a deleted secret can still be used by an instance that had read it.
/// </summary>
public sealed class CachedSecretStore(ISecretStore inner, TimeProvider clock, int capacity = CachedSecretStore.DefaultCapacity) : ISecretStore
{
    public const int DefaultCapacity = 10_000;

    public static readonly TimeSpan KeepFor = TimeSpan.FromMinutes(10);

    readonly ConcurrentDictionary<string, Kept> kept = new(StringComparer.Ordinal);
    readonly Lock gate = new();

    /// <summary>Counts writes and deletes, so a read that overlapped one does not keep what it read.</summary>
    long generation;

    /// <summary>The store reads go through to.</summary>
    public ISecretStore Inner => inner;

    public async Task<string?> GetAsync(string name, CancellationToken cancellationToken)
    {
        if (kept.TryGetValue(name, out var hit) && hit.Until > clock.GetUtcNow())
        {
            return hit.Value;
        }

        var before = Interlocked.Read(ref generation);
        var value = await inner.GetAsync(name, cancellationToken);
        // A missing secret is not kept: it may be written the next moment, and callers fail loudly on it anyway.
        if (value is not null)
        {
            Keep(name, value, before);
        }

        return value;
    }

    public async Task SetAsync(string name, string value, CancellationToken cancellationToken)
    {
        await inner.SetAsync(name, value, cancellationToken);
        Forget(name);
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await inner.DeleteAsync(name, cancellationToken);
        Forget(name);
    }

    void Keep(string name, string value, long readAt)
    {
        lock (gate)
        {
            if (generation != readAt)
            {
                return;
            }

            var now = clock.GetUtcNow();
            if (kept.Count >= capacity && !kept.ContainsKey(name))
            {
                MakeRoom(now);
            }

            kept[name] = new Kept(value, now + KeepFor);
        }
    }

    void Forget(string name)
    {
        lock (gate)
        {
            generation++;
            kept.TryRemove(name, out _);
        }
    }

    /// <summary>Drops what has expired, and when that frees nothing, the value kept longest.</summary>
    void MakeRoom(DateTimeOffset now)
    {
        foreach (var (name, entry) in kept)
        {
            if (entry.Until <= now)
            {
                kept.TryRemove(name, out _);
            }
        }

        if (kept.Count >= capacity && kept.MinBy(e => e.Value.Until) is { Key: { } oldest })
        {
            kept.TryRemove(oldest, out _);
        }
    }

    sealed record Kept(string Value, DateTimeOffset Until);
}
