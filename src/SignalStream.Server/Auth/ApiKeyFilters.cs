using SignalStream.Server.Http;

namespace SignalStream.Server.Auth;

/// <summary>Requires the <c>X-API-Key</c> header to hold one key, compared in constant time. Keys in the query string are never accepted.</summary>
public abstract class ApiKeyFilter(Func<Secrets, string> expected, string role) : IEndpointFilter
{
    public const string Header = "X-API-Key";

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var secrets = http.RequestServices.GetRequiredService<Secrets>();
        return Secrets.KeyMatches(http.Request.Headers[Header].ToString(), expected(secrets))
            ? next(context)
            : ValueTask.FromResult<object?>(Problems.Result(StatusCodes.Status401Unauthorized, $"A valid {role} key is required", $"Send it in the {Header} header."));
    }
}

public sealed class PublisherKeyFilter() : ApiKeyFilter(s => s.PublisherApiKey, "publisher");

public sealed class AdminKeyFilter() : ApiKeyFilter(s => s.AdminApiKey, "admin");
