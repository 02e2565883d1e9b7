using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using System.Runtime.Serialization;
using Akka.Serialization;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Serialization;

/// <summary>
/// The serializer for every <see cref="IShoalMessage"/>: JSON bodies (readable in the journal, tolerant of added
/// fields) under a short manifest, the type's name. Messages cross nodes and events live in the journal for
/// years, so a protocol type is never renamed: add a new type, or an alias in <see cref="s_aliases"/>.
/// </summary>
public sealed class ShoalSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Fixed for the life of the product: journals store it beside every event.</summary>
    public const int SerializerId = 4711;

    /// <summary>Largest message body accepted (a layout of a 1 PiB volume fits well within it).</summary>
    public const int MaxBodyBytes = 16 << 20;

    private static readonly FrozenDictionary<string, Type> s_types = typeof(IShoalMessage).Assembly.GetTypes()
        .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(IShoalMessage).IsAssignableFrom(t))
        .ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>Old manifest → current name, for types that had to be renamed after events were journaled.</summary>
    private static readonly FrozenDictionary<string, string> s_aliases = FrozenDictionary<string, string>.Empty;

    private static readonly JsonSerializerOptions s_json = new()
    {
        Converters = { new JsonStringEnumConverter() },
        IgnoreReadOnlyProperties = true,
        MaxDepth = 32,
    };

    public override int Identifier => SerializerId;

    /// <summary>Every protocol type by manifest (for the round-trip test and diagnostics).</summary>
    public static IReadOnlyDictionary<string, Type> Types => s_types;

    public override string Manifest(object o) => o is IShoalMessage
        ? o.GetType().Name
        : throw new ArgumentException($"{o.GetType()} is not a Shoal protocol message", nameof(o));

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), s_json);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (bytes.Length > MaxBodyBytes)
        {
            throw new SerializationException($"Shoal message {manifest} of {bytes.Length} bytes exceeds {MaxBodyBytes}");
        }
        string name = s_aliases.TryGetValue(manifest, out string? current) ? current : manifest;
        if (!s_types.TryGetValue(name, out Type? type))
        {
            throw new SerializationException($"unknown Shoal message manifest '{manifest}' (a newer node's message?)");
        }
        try
        {
            return JsonSerializer.Deserialize(bytes, type, s_json) ?? throw new SerializationException($"Shoal message {manifest} is null");
        }
        catch (JsonException e)
        {
            throw new SerializationException($"Shoal message {manifest} does not decode: {e.Message}", e);
        }
    }
}
