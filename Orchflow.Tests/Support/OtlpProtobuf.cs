using System.Text;

namespace Orchflow.Tests.Support;

/// <summary>A span as an OTLP collector received it: what the telemetry tests look at.</summary>
public sealed record ReceivedSpan(
    string Scope, string Name, int Kind, string TraceId, string SpanId, string ParentSpanId, IReadOnlyDictionary<string, object?> Attributes,
    IReadOnlyList<(string Name, IReadOnlyDictionary<string, object?> Attributes)> Events, int StatusCode, string StatusMessage)
{
    public object? this[string attribute] => Attributes.GetValueOrDefault(attribute);
}

/// <summary>One data point of a metric: a sum's or gauge's value, or a histogram's count and sum.</summary>
public sealed record ReceivedPoint(string Scope, string Metric, string Unit, string Type, IReadOnlyDictionary<string, object?> Attributes, double Value, long Count, double Sum);

public sealed record ReceivedLog(string Scope, int Severity, string? Body, IReadOnlyDictionary<string, object?> Attributes);

/// <summary>
/// Reads the three OTLP export requests (traces, metrics, logs) in their protobuf form, by field number, with nothing
/// but the wire format: enough of the opentelemetry-proto messages for tests to see what a host exported.
/// </summary>
public static class OtlpProtobuf
{
    public static IEnumerable<ReceivedSpan> Spans(ReadOnlyMemory<byte> request)
    {
        foreach (var resource in Messages(request, 1))
        foreach (var scopeSpans in Messages(resource, 2))
        {
            var scope = ScopeName(scopeSpans);
            foreach (var span in Messages(scopeSpans, 2))
            {
                var fields = Fields(span).ToList();
                var status = fields.Where(f => f.Number == 15).Select(f => f.Bytes).FirstOrDefault();
                yield return new ReceivedSpan(
                    scope,
                    Text(fields, 5) ?? "",
                    (int)Varint(fields, 6),
                    Hex(fields, 1),
                    Hex(fields, 2),
                    Hex(fields, 4),
                    Attributes(fields, 9),
                    fields.Where(f => f.Number == 11).Select(f =>
                    {
                        var e = Fields(f.Bytes).ToList();
                        return (Name: Text(e, 2) ?? "", Attributes: (IReadOnlyDictionary<string, object?>)Attributes(e, 3));
                    }).ToList(),
                    status.IsEmpty ? 0 : (int)Varint(Fields(status).ToList(), 3),
                    status.IsEmpty ? "" : Text(Fields(status).ToList(), 2) ?? "");
            }
        }
    }

    public static IEnumerable<ReceivedPoint> Points(ReadOnlyMemory<byte> request)
    {
        foreach (var resource in Messages(request, 1))
        foreach (var scopeMetrics in Messages(resource, 2))
        {
            var scope = ScopeName(scopeMetrics);
            foreach (var metric in Messages(scopeMetrics, 2))
            {
                var fields = Fields(metric).ToList();
                var name = Text(fields, 1) ?? "";
                var unit = Text(fields, 3) ?? "";
                foreach (var (number, type) in new[] { (5, "gauge"), (7, "sum"), (9, "histogram") })
                foreach (var data in fields.Where(f => f.Number == number))
                foreach (var point in Messages(data.Bytes, 1))
                {
                    var p = Fields(point).ToList();
                    if (type == "histogram")
                    {
                        yield return new ReceivedPoint(scope, name, unit, type, Attributes(p, 9), 0,
                            (long)Fixed(p, 4), BitConverter.Int64BitsToDouble((long)Fixed(p, 5)));
                    }
                    else
                    {
                        var value = p.Any(f => f.Number == 4)
                            ? BitConverter.Int64BitsToDouble((long)Fixed(p, 4))
                            : (long)Fixed(p, 6);
                        yield return new ReceivedPoint(scope, name, unit, type, Attributes(p, 7), value, 0, 0);
                    }
                }
            }
        }
    }

    public static IEnumerable<ReceivedLog> Logs(ReadOnlyMemory<byte> request)
    {
        foreach (var resource in Messages(request, 1))
        foreach (var scopeLogs in Messages(resource, 2))
        {
            var scope = ScopeName(scopeLogs);
            foreach (var log in Messages(scopeLogs, 2))
            {
                var fields = Fields(log).ToList();
                var body = fields.Where(f => f.Number == 5).Select(f => Value(f.Bytes)?.ToString()).FirstOrDefault();
                yield return new ReceivedLog(scope, (int)Varint(fields, 2), body, Attributes(fields, 6));
            }
        }
    }

    readonly record struct Field(int Number, int Wire, ulong Number64, ReadOnlyMemory<byte> Bytes);

    static IEnumerable<ReadOnlyMemory<byte>> Messages(ReadOnlyMemory<byte> message, int number) =>
        Fields(message).Where(f => f.Number == number && f.Wire == 2).Select(f => f.Bytes);

    static string ScopeName(ReadOnlyMemory<byte> scoped) =>
        Messages(scoped, 1).Select(s => Text(Fields(s).ToList(), 1)).FirstOrDefault() ?? "";

    static IEnumerable<Field> Fields(ReadOnlyMemory<byte> message)
    {
        var at = 0;
        while (at < message.Length)
        {
            var tag = ReadVarint(message.Span, ref at);
            var number = (int)(tag >> 3);
            var wire = (int)(tag & 7);
            switch (wire)
            {
                case 0:
                    yield return new Field(number, wire, ReadVarint(message.Span, ref at), default);
                    break;
                case 1:
                    yield return new Field(number, wire, BitConverter.ToUInt64(message.Span.Slice(at, 8)), default);
                    at += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message.Span, ref at);
                    yield return new Field(number, wire, 0, message.Slice(at, length));
                    at += length;
                    break;
                case 5:
                    yield return new Field(number, wire, BitConverter.ToUInt32(message.Span.Slice(at, 4)), default);
                    at += 4;
                    break;
                default:
                    throw new FormatException($"Wire type {wire} of field {number} is not one OTLP uses.");
            }
        }
    }

    static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }

    static string? Text(List<Field> fields, int number) =>
        fields.Where(f => f.Number == number && f.Wire == 2).Select(f => Encoding.UTF8.GetString(f.Bytes.Span)).FirstOrDefault();

    static ulong Varint(List<Field> fields, int number) => fields.Where(f => f.Number == number && f.Wire == 0).Select(f => f.Number64).FirstOrDefault();

    static ulong Fixed(List<Field> fields, int number) => fields.Where(f => f.Number == number && f.Wire == 1).Select(f => f.Number64).FirstOrDefault();

    static string Hex(List<Field> fields, int number) =>
        fields.Where(f => f.Number == number && f.Wire == 2).Select(f => Convert.ToHexStringLower(f.Bytes.Span)).FirstOrDefault() ?? "";

    static Dictionary<string, object?> Attributes(List<Field> fields, int number)
    {
        var attributes = new Dictionary<string, object?>();
        foreach (var kv in fields.Where(f => f.Number == number && f.Wire == 2))
        {
            var pair = Fields(kv.Bytes).ToList();
            var key = Text(pair, 1) ?? "";
            var value = pair.Where(f => f.Number == 2 && f.Wire == 2).Select(f => Value(f.Bytes)).FirstOrDefault();
            attributes[key] = value;
        }

        return attributes;
    }

    /// <summary>An AnyValue: string, bool, int, double, array (as a list) or key-value list (as a dictionary).</summary>
    static object? Value(ReadOnlyMemory<byte> any)
    {
        foreach (var f in Fields(any))
        {
            return f.Number switch
            {
                1 => Encoding.UTF8.GetString(f.Bytes.Span),
                2 => f.Number64 != 0,
                3 => (long)f.Number64,
                4 => BitConverter.Int64BitsToDouble((long)f.Number64),
                5 => Messages(f.Bytes, 1).Select(Value).ToList(),
                6 => Attributes(Fields(f.Bytes).ToList(), 1),
                7 => Convert.ToBase64String(f.Bytes.Span),
                _ => null,
            };
        }

        return null;
    }
}
