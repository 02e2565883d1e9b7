namespace Shoal.Management.Gateway;

/// <summary>An error answered as problem+json with <see cref="Status"/>; <see cref="Type"/> is a short slug.</summary>
public sealed class ApiException(int status, string type, string title, string? detail = null) : Exception(detail ?? title)
{
    public int Status { get; } = status;

    public string Type { get; } = type;

    public string Title { get; } = title;

    public string? Detail { get; } = detail;

    public static ApiException BadRequest(string detail) => new(400, "invalid-request", "The request is not valid", detail);

    public static ApiException NotFound(string detail) => new(404, "not-found", "Not found", detail);

    public static ApiException Conflict(string detail) => new(409, "conflict", "Conflicts with the current state", detail);

    public static ApiException Unavailable(string detail) => new(503, "unavailable", "The control plane did not answer", detail);
}
