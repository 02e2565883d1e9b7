using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using Shoal.Actors.Protocol;
using Shoal.Actors.Serialization;

namespace Shoal.Actors.Tests.Protocol;

public sealed class SerializerTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serializer-test");

    private ShoalSerializer Serializer => new((ExtendedActorSystem)_system);

    public static TheoryData<string> ProtocolTypes()
    {
        var data = new TheoryData<string>();
        foreach (string name in ShoalSerializer.Types.Keys.Order(StringComparer.Ordinal))
        {
            data.Add(name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ProtocolTypes))]
    public void Every_protocol_type_round_trips(string manifest)
    {
        Type type = ShoalSerializer.Types[manifest];
        object original = SampleValues.Create(type);
        ShoalSerializer serializer = Serializer;

        Assert.Equal(manifest, serializer.Manifest(original));
        byte[] bytes = serializer.ToBinary(original);
        object decoded = serializer.FromBinary(bytes, manifest);

        Assert.IsType(type, decoded);
        // Records holding immutable arrays compare those by reference, so equality is checked on the re-encoding,
        // and every sample field is non-default, so a field the codec drops changes the bytes.
        Assert.Equal(System.Text.Encoding.UTF8.GetString(bytes), System.Text.Encoding.UTF8.GetString(serializer.ToBinary(decoded)));
        Assert.DoesNotContain("null", System.Text.Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void Protocol_is_complete_and_every_message_is_a_sealed_record()
    {
        // Every family is present, and the reflection scan found what it should.
        foreach (Type marker in new[] { typeof(IDriveCommand), typeof(IDriveEvent), typeof(IDriveReply), typeof(IVolumeCommand), typeof(IVolumeEvent), typeof(IVolumeReply) })
        {
            Assert.Contains(ShoalSerializer.Types.Values, t => marker.IsAssignableFrom(t));
        }
        foreach (Type t in ShoalSerializer.Types.Values)
        {
            Assert.True(t.IsSealed, $"{t.Name} must be sealed");
            Assert.NotNull(t.GetMethod("<Clone>$"));
        }
    }

    [Fact]
    public void Akka_picks_the_shoal_serializer_for_protocol_messages_by_binding()
    {
        using ActorSystem system = ActorSystem.Create("bound", Akka.Configuration.ConfigurationFactory.ParseString($$"""
            akka.actor.serializers.shoal = "{{typeof(ShoalSerializer).AssemblyQualifiedName}}"
            akka.actor.serialization-bindings { "{{typeof(IShoalMessage).AssemblyQualifiedName}}" = shoal }
            akka.actor.serialization-identifiers { "{{typeof(ShoalSerializer).AssemblyQualifiedName}}" = {{ShoalSerializer.SerializerId}} }
            """));
        var message = new GetVolume(new VolumeName("v1"));
        Serializer found = system.Serialization.FindSerializerFor(message);
        Assert.IsType<ShoalSerializer>(found);
        Assert.Equal(ShoalSerializer.SerializerId, found.Identifier);
    }

    [Fact]
    public void Unknown_manifests_and_garbage_are_refused_with_a_clear_error()
    {
        ShoalSerializer serializer = Serializer;
        SerializationException unknown = Assert.Throws<SerializationException>(() => serializer.FromBinary("{}"u8.ToArray(), "NoSuchMessage"));
        Assert.Contains("unknown Shoal message manifest", unknown.Message, StringComparison.Ordinal);
        SerializationException garbage = Assert.Throws<SerializationException>(() => serializer.FromBinary("{\"Volume\":"u8.ToArray(), nameof(GetVolume)));
        Assert.Contains("does not decode", garbage.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => serializer.Manifest("not a message"));
    }

    [Fact]
    public void A_newer_nodes_message_with_an_unknown_field_decodes_and_the_field_is_ignored()
    {
        // What a node one version ahead sends (or journals): the same record with one field added (docs/adr/0005).
        ShoalSerializer serializer = Serializer;
        var drive = new DriveId(Guid.Parse("00000000000000000000000000000007"));
        string json = System.Text.Encoding.UTF8.GetString(serializer.ToBinary(new SetDriveDraining(drive, true)));
        byte[] newer = System.Text.Encoding.UTF8.GetBytes(json.TrimEnd('}') + ",\"AddedInANewerVersion\":{\"Nested\":[1,2]}}");
        Assert.Equal(new SetDriveDraining(drive, true), serializer.FromBinary(newer, nameof(SetDriveDraining)));
    }

    [Fact]
    public void An_older_nodes_message_without_a_field_added_since_decodes_with_its_default()
    {
        // DriveView gained MaintenanceSince (rolling upgrades): a reply from a node before that has no such field.
        ShoalSerializer serializer = Serializer;
        var reply = (DriveStateReply)SampleValues.Create(typeof(DriveStateReply));
        Assert.NotNull(reply.View.MaintenanceSince);
        var json = System.Text.Json.Nodes.JsonNode.Parse(serializer.ToBinary(reply))!.AsObject();
        Assert.True(json["View"]!.AsObject().Remove(nameof(DriveView.MaintenanceSince)));
        var decoded = (DriveStateReply)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()), nameof(DriveStateReply));
        Assert.Null(decoded.View.MaintenanceSince);
        Assert.Equal(reply.View.Drive, decoded.View.Drive);
        Assert.Equal(reply.View.Draining, decoded.View.Draining);
    }

    public void Dispose() => _system.Dispose();
}
