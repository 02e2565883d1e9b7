namespace Shoal.Actors.Tests;

public sealed class IdsTests
{
    [Fact]
    public void Drive_id_round_trips_through_text()
    {
        var id = new Protocol.DriveId(Guid.NewGuid());
        Assert.Equal(id, Protocol.DriveId.Parse(id.ToString()));
    }
}
