namespace Orchflow.Functions.Http.Idempotency;

/// <summary>Marks an HTTP function that honours <c>Idempotency-Key</c>: sent again with the same key, its first answer is replayed.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class IdempotentAttribute : Attribute;
