using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;

namespace Shoal.Actors.Tests.Hosting;

/// <summary>A sharded test entity that only says which node it runs on: the failover probe's stand-in for a volume entity.</summary>
public sealed class PingEntity : ReceiveActor
{
    public const string TypeName = "ping";
    private const int ShardCount = 30;

    public PingEntity(string entityId)
    {
        var self = Cluster.Get(Context.System).SelfAddress.ToString();
        Receive<Ping>(_ => Sender.Tell(new Pong(entityId, self)));
    }

    /// <summary>Routes <see cref="Ping"/> by entity id over <see cref="ShardCount"/> shards.</summary>
    public static IMessageExtractor Extractor { get; } = new PingExtractor();

    private sealed class PingExtractor() : HashCodeMessageExtractor(ShardCount)
    {
        public override string EntityId(object message) => message is Ping ping ? ping.EntityId : null!;
    }
}
