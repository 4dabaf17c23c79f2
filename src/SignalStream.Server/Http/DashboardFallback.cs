namespace SignalStream.Server.Http;

/// <summary>
/// Only the dashboard's own routes fall back to its page. Under <c>/api</c> and <c>/ws</c> a path that matches no
/// endpoint is a 404 problem, whatever the method.
/// </summary>
public static class DashboardFallback
{
    public static void MapDashboardFallback(this IEndpointRouteBuilder app)
    {
        app.MapFallback("/api/{**path}", NotFound);
        app.MapFallback("/ws/{**path}", NotFound);
        app.MapFallbackToFile("index.html");
    }

    private static IResult NotFound(HttpContext context) =>
        Problems.Result(StatusCodes.Status404NotFound, "Not found", $"{context.Request.Method} {context.Request.Path} is not part of this API (docs/protocol.md).");
}
