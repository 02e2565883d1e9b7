using System.Collections.Immutable;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;
using Shoal.DataPath.Volume;
using Shoal.Management.Api;

namespace Shoal.Management.Gateway;

/// <summary>/volumes: create, list, show, grow, delete, attach, detach, scrub — each a message to the volume's entity or a node's client agent.</summary>
internal static class VolumeRoutes
{
    public static IEnumerable<ApiRoute> All(ControlPlane cp) =>
    [
        new("GET", "/volumes", ApiRole.Read, "List volumes with legs, epoch, states and rebuild progress, in name order, a page at a time (?limit=N up to 1000, ?after=NAME; a Link header names the next page)", null, "VolumeList", async c =>
        {
            (VolumeName? after, int limit) = Page(c, cp.Options.MaxListedVolumes);
            (ImmutableArray<VolumeView> views, VolumeName? last, bool more) = await cp.ListVolumes(after, limit, c.RequestAborted);
            string? next = more && last is { } l ? $"<{GatewayServer.ApiBase}/volumes?after={Uri.EscapeDataString(l.Value)}&limit={limit}>; rel=\"next\"" : null;
            return new ApiResult(200, views.Select(ApiMapping.Volume).ToArray(), next);
        }),
        new("POST", "/volumes", ApiRole.Admin, "Create a volume (201); the same spec again answers it (200); another spec is 409", "CreateVolumeRequest", "Volume", async c =>
        {
            CreateVolumeRequest request = await ApiJson.Body<CreateVolumeRequest>(c);
            (VolumeName name, VolumeSpec spec) = Spec(request, cp.Options);
            (VolumeView view, bool created) = await cp.CreateVolume(name, spec, c.RequestAborted);
            return created ? ApiResult.Created(ApiMapping.Volume(view)) : ApiResult.Ok(ApiMapping.Volume(view));
        }),
        new("GET", "/volumes/{name}", ApiRole.Read, "Show one volume", null, "Volume", async c =>
            ApiResult.Ok(ApiMapping.Volume(await cp.GetVolume(Name(c), c.RequestAborted)))),
        new("POST", "/volumes/{name}/grow", ApiRole.Admin, "Grow a volume (never shrinks)", "GrowVolumeRequest", "Volume", async c =>
        {
            VolumeName name = Name(c);
            GrowVolumeRequest request = await ApiJson.Body<GrowVolumeRequest>(c);
            long size = request.SizeBytes ?? throw ApiException.BadRequest("sizeBytes is required");
            if (size <= 0 || size % 4096 != 0 || size > VolumeSpec.MaxSizeBytes)
            {
                throw ApiException.BadRequest($"sizeBytes must be a positive multiple of 4096 up to {VolumeSpec.MaxSizeBytes}");
            }
            VolumeView current = await cp.GetVolume(name, c.RequestAborted);
            if (size < current.Spec!.SizeBytes)
            {
                throw ApiException.BadRequest($"a volume cannot shrink: {name} is {current.Spec.SizeBytes} bytes, asked for {size}");
            }
            return ApiResult.Ok(ApiMapping.Volume(await cp.Command(new GrowVolume(name, size), c.RequestAborted)));
        }),
        new("DELETE", "/volumes/{name}", ApiRole.Admin, "Delete a detached volume; its segments are freed once their targets confirm", null, "Volume", async c =>
        {
            VolumeName name = Name(c);
            VolumeView current = await cp.GetVolume(name, c.RequestAborted);
            VolumeView after = await cp.Command(new DeleteVolume(name), c.RequestAborted);
            // A small volume's segments can all be released before the answer: the entity then has no spec left to
            // show, and the answer is the volume as it was, marked deleted.
            return ApiResult.Accepted(ApiMapping.Volume(after.Spec == null ? current with { Status = VolumeStatus.Deleted } : after));
        }),
        new("POST", "/volumes/{name}/attach", ApiRole.Admin, "Attach a volume on a client node and export it over NBD", "AttachRequest", "AttachmentResult", async c =>
        {
            VolumeName name = Name(c);
            AttachRequest request = await ApiJson.Body(c, new AttachRequest());
            string node = request.Node ?? cp.Options.NodeName;
            await cp.GetVolume(name, c.RequestAborted);
            object reply = await cp.Ask<object>(cp.ClientAgent(node), new AttachLocal(name, request.Force), c.RequestAborted);
            return reply switch
            {
                LocalAttachment a => ApiResult.Ok(new AttachmentResult(a.Volume.Value, a.Node.Value, a.Writer.ToString(), a.Epoch, a.NbdUri)),
                LocalCommandRefused r => throw ControlPlane.Refused(r.Code, r.Reason),
                _ => throw ApiException.Unavailable($"unexpected answer {reply.GetType().Name}"),
            };
        }),
        new("POST", "/volumes/{name}/detach", ApiRole.Admin,
            "Detach a volume from its node; force detaches a writer whose node does not answer (the next attach fences it)", "DetachRequest", "Volume", async c =>
        {
            VolumeName name = Name(c);
            DetachRequest request = await ApiJson.Body(c, new DetachRequest());
            VolumeView view = await cp.GetVolume(name, c.RequestAborted);
            Attachment attachment = view.Attachments.FirstOrDefault(a => request.Node == null || a.Client.Value == request.Node)
                ?? throw ApiException.Conflict(request.Node == null ? $"volume {name} is not attached" : $"volume {name} is not attached on {request.Node}");
            try
            {
                object reply = await cp.Ask<object>(cp.ClientAgent(attachment.Client.Value), new DetachLocal(name), c.RequestAborted);
                if (reply is LocalCommandRefused r && !(request.Force && r.Code == VolumeRefusal.NotWriter))
                {
                    throw ControlPlane.Refused(r.Code, r.Reason);
                }
                if (reply is LocalDetached)
                {
                    return ApiResult.Ok(ApiMapping.Volume(await cp.GetVolume(name, c.RequestAborted)));
                }
            }
            catch (ApiException e) when (request.Force && e.Status is 404 or 503)
            {
                // The node is gone or silent: the entity drops its writer below.
            }
            if (!request.Force)
            {
                throw ApiException.Conflict($"node {attachment.Client} does not hold the attachment; use force to detach its writer");
            }
            return ApiResult.Ok(ApiMapping.Volume(await cp.Command(new DetachVolume(name, attachment.Writer), c.RequestAborted)));
        }),
        new("POST", "/volumes/{name}/scrub", ApiRole.Admin,
            "Scrub an attached volume: its engine reads every in-sync leg, checks every block's checksum and repairs bad blocks from a good leg (202; 409 when not attached)",
            null, "Scrub", async c => ApiResult.Accepted(await Scrub(cp, c, start: true))),
        new("GET", "/volumes/{name}/scrub", ApiRole.Read, "An attached volume's checksum findings and its last or current scrub", null, "Scrub", async c =>
            ApiResult.Ok(await Scrub(cp, c, start: false))),
    ];

    private static (VolumeName? After, int Limit) Page(HttpContext c, int maxLimit)
    {
        int limit = maxLimit;
        if (c.Request.Query["limit"] is { Count: > 0 } l && !(int.TryParse(l[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit >= 1 && limit <= maxLimit))
        {
            throw ApiException.BadRequest($"limit must be a whole number from 1 to {maxLimit}");
        }
        if (c.Request.Query["after"] is not { Count: > 0 } a)
        {
            return (null, limit);
        }
        string after = a[0]!;
        return VolumeNameRules.Problem(after) is { } problem ? throw ApiException.BadRequest("after: " + problem) : (new VolumeName(after), limit);
    }

    /// <summary>Asks the client agent of the node the volume is attached on; a scrub runs in that node's engine.</summary>
    private static async Task<ScrubDto> Scrub(ControlPlane cp, HttpContext c, bool start)
    {
        VolumeName name = Name(c);
        VolumeView view = await cp.GetVolume(name, c.RequestAborted);
        Attachment attachment = view.Attachments.FirstOrDefault()
            ?? throw ApiException.Conflict($"volume {name} is not attached; attach it first (a scrub runs in the engine of the node it is attached on)");
        object reply = await cp.Ask<object>(cp.ClientAgent(attachment.Client.Value), new ScrubLocal(name, start), c.RequestAborted);
        return reply switch
        {
            LocalScrub s => ApiMapping.Scrub(s),
            LocalCommandRefused r => throw ControlPlane.Refused(r.Code, r.Reason),
            _ => throw ApiException.Unavailable($"unexpected answer {reply.GetType().Name}"),
        };
    }

    public static VolumeName Name(HttpContext c)
    {
        string name = (string)c.Request.RouteValues["name"]!;
        if (VolumeNameRules.Problem(name) is { } problem)
        {
            throw ApiException.BadRequest(problem);
        }
        return new VolumeName(name);
    }

    public static (VolumeName, VolumeSpec) Spec(CreateVolumeRequest r, GatewayOptions options)
    {
        if (VolumeNameRules.Problem(r.Name) is { } problem)
        {
            throw ApiException.BadRequest(problem);
        }
        LayoutKind kind = ApiMapping.ParseLayout(r.Layout)
            ?? throw ApiException.BadRequest($"layout must be concat, stripe, mirror or stripe-mirror, not '{r.Layout}'");
        long size = r.SizeBytes ?? throw ApiException.BadRequest("sizeBytes is required");
        FailureDomainLevel spread = r.Spread == null ? options.DefaultSpread
            : ApiMapping.ParseSpread(r.Spread) ?? throw ApiException.BadRequest($"spread must be drive, node, rack or zone, not '{r.Spread}'");
        int legs = r.Legs ?? (kind is LayoutKind.Mirror or LayoutKind.StripeMirror ? 2 : 1);
        int width = r.StripeWidth ?? (kind is LayoutKind.Stripe or LayoutKind.StripeMirror ? 2 : 1);
        var spec = new VolumeSpec(kind, size, legs, width, r.StripeUnitBytes ?? VolumeLayout.DefaultStripeUnitBytes, r.DriveClass ?? options.DefaultDriveClass, spread);
        IReadOnlyList<string> errors = spec.Validate();
        if (errors.Count > 0)
        {
            throw ApiException.BadRequest(string.Join("; ", errors));
        }
        return (new VolumeName(r.Name!), spec);
    }
}
