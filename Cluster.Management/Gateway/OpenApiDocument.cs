using System.Collections.Immutable;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Shoal.Management.Api;

namespace Shoal.Management.Gateway;

/// <summary>
/// The OpenAPI 3.0 document, built from the route table and, for schemas, from the API's records by reflection:
/// a route or a field added in code is in the document with no second place to edit.
/// </summary>
public static class OpenApiDocument
{
    private static readonly Dictionary<string, Type> s_schemas = new()
    {
        ["Volume"] = typeof(VolumeDto),
        ["Attachment"] = typeof(AttachmentDto),
        ["Group"] = typeof(GroupDto),
        ["Leg"] = typeof(LegDto),
        ["Rebuild"] = typeof(RebuildDto),
        ["CreateVolumeRequest"] = typeof(CreateVolumeRequest),
        ["GrowVolumeRequest"] = typeof(GrowVolumeRequest),
        ["AttachRequest"] = typeof(AttachRequest),
        ["DetachRequest"] = typeof(DetachRequest),
        ["AttachmentResult"] = typeof(AttachmentResult),
        ["Drive"] = typeof(DriveDto),
        ["Node"] = typeof(NodeDto),
        ["Member"] = typeof(MemberDto),
        ["Cluster"] = typeof(ClusterDto),
        ["ShardRegion"] = typeof(ShardRegionDto),
        ["ShardType"] = typeof(ShardTypeDto),
        ["Sharding"] = typeof(ShardingDto),
        ["AddressRequest"] = typeof(AddressRequest),
        ["AddDriveRequest"] = typeof(AddDriveRequest),
        ["MaintenanceRequest"] = typeof(MaintenanceRequest),
        ["UpgradePlan"] = typeof(UpgradePlanDto),
        ["UpgradeStep"] = typeof(UpgradeStepDto),
        ["VolumeStats"] = typeof(VolumeStatsDto),
        ["Stats"] = typeof(StatsDto),
        ["Scrub"] = typeof(ScrubDto),
        ["Problem"] = typeof(ProblemDto),
    };

    private static readonly Dictionary<string, string> s_lists = new()
    {
        ["VolumeList"] = "Volume",
        ["DriveList"] = "Drive",
        ["NodeList"] = "Node",
    };

    public static string Build(IEnumerable<ApiRoute> routes)
    {
        var paths = new JsonObject();
        foreach (IGrouping<string, ApiRoute> path in routes.GroupBy(r => r.Path))
        {
            var item = new JsonObject();
            foreach (ApiRoute r in path)
            {
                var op = new JsonObject
                {
                    ["summary"] = r.Summary,
                    ["operationId"] = r.Method.ToLowerInvariant() + string.Concat(r.Path.Split('/', '{', '}').Select(Capital)),
                    ["x-shoal-role"] = r.Role == ApiRole.Admin ? "admin" : "read",
                    ["responses"] = new JsonObject
                    {
                        [r.Method == "POST" && r.Path == "/volumes" ? "201" : "200"] = Response("Success", r.ResponseSchema),
                        ["default"] = new JsonObject
                        {
                            ["description"] = "An error, as problem+json",
                            ["content"] = new JsonObject { ["application/problem+json"] = new JsonObject { ["schema"] = Ref("Problem") } },
                        },
                    },
                };
                JsonArray parameters = [.. r.Path.Split('/').Where(s => s.StartsWith('{')).Select(s => (JsonNode)new JsonObject
                {
                    ["name"] = s.Trim('{', '}'),
                    ["in"] = "path",
                    ["required"] = true,
                    ["schema"] = new JsonObject { ["type"] = "string" },
                })];
                if (parameters.Count > 0)
                {
                    op["parameters"] = parameters;
                }
                if (r.RequestSchema != null)
                {
                    op["requestBody"] = new JsonObject
                    {
                        ["required"] = r.RequestSchema is not ("AttachRequest" or "DetachRequest"),
                        ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = Ref(r.RequestSchema) } },
                    };
                }
                item[r.Method.ToLowerInvariant()] = op;
            }
            paths[path.Key] = item;
        }
        var schemas = new JsonObject();
        foreach ((string name, Type type) in s_schemas)
        {
            schemas[name] = Schema(type);
        }
        foreach ((string name, string element) in s_lists)
        {
            schemas[name] = new JsonObject { ["type"] = "array", ["items"] = Ref(element) };
        }
        var doc = new JsonObject
        {
            ["openapi"] = "3.0.3",
            ["info"] = new JsonObject
            {
                ["title"] = "Shoal REST gateway",
                ["version"] = "1",
                ["description"] = "Every request becomes a message to a sharded volume or drive entity, the volume catalog, or a node's agent. " +
                    "Bearer tokens: admin (all routes) or read-only (GET routes). Errors are application/problem+json.",
            },
            ["servers"] = new JsonArray(new JsonObject { ["url"] = "/api/v1" }),
            ["security"] = new JsonArray(new JsonObject { ["bearer"] = new JsonArray() }),
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["securitySchemes"] = new JsonObject { ["bearer"] = new JsonObject { ["type"] = "http", ["scheme"] = "bearer" } },
                ["schemas"] = schemas,
            },
        };
        return doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    public static bool Knows(string schema) => s_schemas.ContainsKey(schema) || s_lists.ContainsKey(schema);

    private static string Capital(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static JsonObject Response(string description, string schema) => new()
    {
        ["description"] = description,
        ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = Ref(schema) } },
    };

    private static JsonObject Ref(string schema) => new() { ["$ref"] = "#/components/schemas/" + schema };

    private static JsonObject Schema(Type type)
    {
        var properties = new JsonObject();
        var required = new JsonArray();
        ParameterInfo[] ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First().GetParameters();
        var nullability = new NullabilityInfoContext();
        foreach (ParameterInfo p in ctor)
        {
            string name = JsonNamingPolicy.CamelCase.ConvertName(p.Name!);
            properties[name] = TypeSchema(p.ParameterType);
            bool nullable = Nullable.GetUnderlyingType(p.ParameterType) != null || nullability.Create(p).WriteState == NullabilityState.Nullable;
            if (!nullable && !p.HasDefaultValue)
            {
                required.Add(name);
            }
        }
        var schema = new JsonObject { ["type"] = "object", ["properties"] = properties };
        if (required.Count > 0)
        {
            schema["required"] = required;
        }
        return schema;
    }

    private static JsonNode TypeSchema(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t == typeof(string))
        {
            return new JsonObject { ["type"] = "string" };
        }
        if (t == typeof(bool))
        {
            return new JsonObject { ["type"] = "boolean" };
        }
        if (t == typeof(int) || t == typeof(uint))
        {
            return new JsonObject { ["type"] = "integer", ["format"] = "int32" };
        }
        if (t == typeof(long) || t == typeof(ulong))
        {
            return new JsonObject { ["type"] = "integer", ["format"] = "int64" };
        }
        if (t == typeof(double))
        {
            return new JsonObject { ["type"] = "number", ["format"] = "double" };
        }
        if (t == typeof(DateTimeOffset))
        {
            return new JsonObject { ["type"] = "string", ["format"] = "date-time" };
        }
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(ImmutableArray<>))
        {
            return new JsonObject { ["type"] = "array", ["items"] = TypeSchema(t.GetGenericArguments()[0]) };
        }
        string? name = s_schemas.FirstOrDefault(kv => kv.Value == t).Key;
        return name != null ? Ref(name) : throw new InvalidOperationException($"no OpenAPI schema for {t.Name}");
    }
}
