using Microsoft.AspNetCore.Http;

namespace Shoal.Management.Gateway;

/// <summary>Who may call a route: read-only tokens may call <see cref="Read"/> routes, admin tokens all.</summary>
public enum ApiRole
{
    Read,
    Admin,
}

/// <summary>
/// One REST route: its method and path under /api/v1, who may call it, what it documents in the OpenAPI document,
/// and its handler. The gateway maps and documents routes from the same table, so the document cannot drift.
/// </summary>
public sealed record ApiRoute(
    string Method,
    string Path,
    ApiRole Role,
    string Summary,
    string? RequestSchema,
    string ResponseSchema,
    Func<HttpContext, Task<ApiResult>> Handler);

/// <summary>A handler's answer: a status and a document (serialized as JSON), or no body; a Link header for a next page.</summary>
public sealed record ApiResult(int Status, object? Body, string? Link = null)
{
    public static ApiResult Ok(object body) => new(200, body);

    public static ApiResult Created(object body) => new(201, body);

    public static ApiResult Accepted(object body) => new(202, body);
}
