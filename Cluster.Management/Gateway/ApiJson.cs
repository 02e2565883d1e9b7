using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace Shoal.Management.Gateway;

/// <summary>The API's JSON: camelCase, enums as strings; request bodies are strict (an unknown field is an error).</summary>
public static class ApiJson
{
    /// <summary>Largest request body the gateway reads.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = false,
        // Answers are JSON documents, never embedded in HTML: keep quotes and apostrophes readable.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Reads the body as <typeparamref name="T"/>; an empty body gives <paramref name="empty"/> when allowed.</summary>
    public static async Task<T> Body<T>(HttpContext context, T? empty = null) where T : class
    {
        if (context.Request.ContentLength is > MaxBodyBytes)
        {
            throw new ApiException(413, "too-large", "The request body is too large", $"at most {MaxBodyBytes} bytes");
        }
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[8192];
        int n;
        while ((n = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, n);
            if (buffer.Length > MaxBodyBytes)
            {
                throw new ApiException(413, "too-large", "The request body is too large", $"at most {MaxBodyBytes} bytes");
            }
        }
        if (buffer.Length == 0)
        {
            return empty ?? throw ApiException.BadRequest("a JSON body is required");
        }
        string? type = context.Request.ContentType;
        if (type != null && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new ApiException(415, "unsupported-media-type", "The body must be application/json", $"got {type}");
        }
        try
        {
            return JsonSerializer.Deserialize<T>(buffer.ToArray(), Options) ?? throw ApiException.BadRequest("the JSON body is null");
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"malformed JSON: {e.Message}");
        }
    }
}
