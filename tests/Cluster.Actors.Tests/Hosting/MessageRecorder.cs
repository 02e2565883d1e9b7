using Akka.Actor;

namespace Shoal.Actors.Tests.Hosting;

/// <summary>Keeps every message it receives and, asked with <see cref="GetRecorded"/>, replies with them in arrival order.</summary>
public sealed class MessageRecorder : ReceiveActor
{
    private readonly List<object> _received = [];

    public MessageRecorder()
    {
        Receive<GetRecorded>(_ => Sender.Tell(new Recorded([.. _received])));
        ReceiveAny(_received.Add);
    }
}
