using Orchflow.Abstractions;

namespace Orchflow.Functions.Contracts;

public sealed record CreateKeyRequest(string? Label);

/// <summary>POST /auth/keys: the new key, shown this once.</summary>
public sealed record CreatedKeyView(string KeyId, string ApiKey, string Label, DateTimeOffset CreatedAt);

/// <summary>One key as GET /auth/keys lists it: never the key, only its last characters.</summary>
public sealed record KeyView(string KeyId, string Label, string KeyHint, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt)
{
    public static KeyView Of(ApiKeyRecord k) => new(k.KeyId, k.Label, k.KeyHint, k.CreatedAt, k.LastUsedAt);
}

public sealed record KeyListView(IReadOnlyList<KeyView> Keys);
