using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shoal.Management.Api;
using Shoal.Management.Metrics;

namespace Shoal.Management.Gateway;

/// <summary>
/// The management role's HTTP server: the REST API under /api/v1 (bearer tokens, problem+json errors), its OpenAPI
/// document, the Prometheus page at /metrics and the web GUI at /. It holds no state: every request is answered by
/// asking the actors through <see cref="ControlPlane"/>.
/// </summary>
public sealed class GatewayServer : IAsyncDisposable
{
    public const string ApiBase = "/api/v1";

    private readonly WebApplication _app;
    private readonly Action<string> _log;

    private GatewayServer(WebApplication app, Action<string> log)
    {
        _app = app;
        _log = log;
    }

    public IPEndPoint? EndPoint { get; private set; }

    public static IReadOnlyList<ApiRoute> Routes(ControlPlane cp) => [.. VolumeRoutes.All(cp), .. ClusterRoutes.All(cp), .. UpgradeRoutes.All(cp)];

    public static GatewayServer Create(ActorSystem system, GatewayOptions options, Action<string> log)
    {
        var cp = new ControlPlane(system, options);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "Shoal.Management" });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(options.Listen);
            k.Limits.MaxRequestBodySize = ApiJson.MaxBodyBytes;
            k.AddServerHeader = false;
        });
        builder.Services.AddRoutingCore();
        WebApplication app = builder.Build();
        IReadOnlyList<ApiRoute> routes = Routes(cp);
        string openApi = OpenApiDocument.Build(routes);
        byte[] admin = Encoding.UTF8.GetBytes(options.AdminToken);
        byte[] read = Encoding.UTF8.GetBytes(options.ReadToken);

        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (ApiException e)
            {
                await Problem(context, e);
            }
            catch (BadHttpRequestException e)
            {
                await Problem(context, new ApiException(e.StatusCode, "bad-request", "The request could not be read", e.Message));
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // the caller went away
            }
            catch (Exception e)
            {
                log($"gateway: {context.Request.Method} {context.Request.Path} failed: {e}");
                await Problem(context, new ApiException(500, "internal", "The gateway failed", e.Message));
            }
        });
        app.UseRouting();

        foreach (ApiRoute route in routes)
        {
            ApiRoute r = route;
            app.MapMethods(ApiBase + r.Path, [r.Method], async context =>
            {
                Authorize(context, r.Role, admin, read);
                ApiResult result = await r.Handler(context);
                context.Response.StatusCode = result.Status;
                if (result.Link != null)
                {
                    context.Response.Headers.Link = result.Link;
                }
                if (result.Body != null)
                {
                    context.Response.ContentType = "application/json; charset=utf-8";
                    await JsonSerializer.SerializeAsync(context.Response.Body, result.Body, result.Body.GetType(), ApiJson.Options, context.RequestAborted);
                }
            });
        }
        app.MapGet(ApiBase + "/openapi.json", async context =>
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(openApi, context.RequestAborted);
        });
        app.MapGet("/metrics", async context =>
        {
            string text = await MetricsExporter.Scrape(cp, context.RequestAborted);
            context.Response.ContentType = PrometheusText.ContentType;
            await context.Response.WriteAsync(text, context.RequestAborted);
        });
        app.MapGet("/", context => Gui(context, "index.html"));
        app.MapGet("/gui/{file}", context => Gui(context, (string)context.Request.RouteValues["file"]!));
        app.MapFallback(context =>
        {
            bool known = routes.Any(r => PathMatches(r.Path, context.Request.Path.Value ?? "", out _));
            throw known
                ? new ApiException(405, "method-not-allowed", "Method not allowed", $"{context.Request.Method} is not allowed on {context.Request.Path}")
                : ApiException.NotFound($"no route {context.Request.Method} {context.Request.Path}");
        });
        return new GatewayServer(app, log);
    }

    public async Task StartAsync()
    {
        await _app.StartAsync().ConfigureAwait(false);
        EndPoint = _app.Urls.Select(u => new Uri(u)).Select(u => new IPEndPoint(IPAddress.Parse(u.Host), u.Port)).FirstOrDefault();
        _log($"gateway listening on http://{EndPoint}{ApiBase}");
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopped hard
        }
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static void Authorize(HttpContext context, ApiRole role, byte[] admin, byte[] read)
    {
        string? header = context.Request.Headers.Authorization;
        if (header == null || !header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            throw new ApiException(401, "unauthorized", "A bearer token is required", "send Authorization: Bearer TOKEN (the admin token is in the management node's data directory, admin.token)");
        }
        byte[] token = Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim());
        bool isAdmin = CryptographicOperations.FixedTimeEquals(token, admin);
        bool isRead = CryptographicOperations.FixedTimeEquals(token, read);
        if (!isAdmin && !isRead)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
            throw new ApiException(401, "unauthorized", "The bearer token is not valid");
        }
        if (role == ApiRole.Admin && !isAdmin)
        {
            throw new ApiException(403, "forbidden", "This needs the admin token", "the read-only token may only read");
        }
    }

    private static async Task Problem(HttpContext context, ApiException e)
    {
        if (context.Response.HasStarted)
        {
            return;
        }
        context.Response.StatusCode = e.Status;
        context.Response.ContentType = "application/problem+json";
        if (e.Status == 503)
        {
            context.Response.Headers.RetryAfter = "5";
        }
        var problem = new ProblemDto("https://shoal.dev/problems/" + e.Type, e.Title, e.Status, e.Detail, context.Request.Path);
        await JsonSerializer.SerializeAsync(context.Response.Body, problem, ApiJson.Options);
    }

    private static bool PathMatches(string template, string path, out Dictionary<string, string> values)
    {
        values = [];
        string[] t = (ApiBase + template).Split('/');
        string[] p = path.TrimEnd('/').Split('/');
        if (t.Length != p.Length)
        {
            return false;
        }
        for (int i = 0; i < t.Length; i++)
        {
            if (t[i].StartsWith('{'))
            {
                values[t[i].Trim('{', '}')] = p[i];
            }
            else if (t[i] != p[i])
            {
                return false;
            }
        }
        return true;
    }

    private static async Task Gui(HttpContext context, string file)
    {
        Stream? resource = file.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-')
            ? Assembly.GetExecutingAssembly().GetManifestResourceStream("gui/" + file)
            : null;
        if (resource == null)
        {
            throw ApiException.NotFound($"no GUI file {file}");
        }
        await using (resource)
        {
            context.Response.ContentType = Path.GetExtension(file) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers["Content-Security-Policy"] = "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:";
            await resource.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }
}
