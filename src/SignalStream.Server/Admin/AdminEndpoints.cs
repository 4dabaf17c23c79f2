using System.Text.Json;
using SignalStream.Protocol;
using SignalStream.Server.Auth;
using SignalStream.Server.Http;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Admin;

/// <summary>
/// Users and tiers. A change is written to the store only: every node's <see cref="Users.UserChangeFeed"/>
/// picks it up from there and applies it to its own connections, so the admin API never reaches into a hub.
/// </summary>
public static class AdminEndpoints
{
    private const int MaxBodyBytes = 8 * 1024;
    private static readonly TimeSpan BodyTimeout = TimeSpan.FromSeconds(10);

    public static void MapAdmin(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup(Paths.AdminUsers).AddEndpointFilter<AdminKeyFilter>();
        admin.MapPost("", CreateAsync);
        admin.MapGet("", ListAsync);
        admin.MapGet("{userId}", GetAsync);
        admin.MapPut("{userId}", UpdateAsync);
    }

    private static async Task<IResult> CreateAsync(HttpContext context, IUserStore store, Passwords passwords)
    {
        var (request, refusal) = await ReadAsync(context, ProtocolJson.Default.CreateUserRequest);
        if (request is null) return refusal!;
        var errors = new Dictionary<string, string[]>();
        if (request.Username is not { Length: >= 1 and <= 64 } username || !username.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '@'))
            errors["username"] = ["1 to 64 letters, digits or - _ . @"];
        if (request.Password is not { Length: >= 8 and <= 256 }) errors["password"] = ["8 to 256 characters"];
        var tier = Tier.Starter;
        if (request.Tier is not null && !TierRule.TryParse(request.Tier, out tier)) errors["tier"] = ["STARTER, PROFESSIONAL or INSTITUTIONAL"];
        if (errors.Count > 0) return Results.ValidationProblem(errors, title: "The user is invalid");

        return await Guard(async () =>
        {
            var user = await store.CreateAsync(request.Username!, passwords.Hash(request.Password!), tier, context.RequestAborted);
            return user is null
                ? Problems.Result(StatusCodes.Status409Conflict, "Username already taken")
                : Results.Json(ToResponse(user), ProtocolJson.Default.UserResponse, statusCode: StatusCodes.Status201Created);
        });
    }

    private static Task<IResult> ListAsync(HttpContext context, IUserStore store) => Guard(async () =>
        Results.Json((await store.ListAsync(context.RequestAborted)).Select(ToResponse).ToArray(), ProtocolJson.Default.UserResponseArray));

    private static Task<IResult> GetAsync(string userId, HttpContext context, IUserStore store) => Guard(async () =>
        await store.FindByIdAsync(userId, context.RequestAborted) is { } user
            ? Results.Json(ToResponse(user), ProtocolJson.Default.UserResponse)
            : Problems.Result(StatusCodes.Status404NotFound, "No such user"));

    private static async Task<IResult> UpdateAsync(string userId, HttpContext context, IUserStore store, Passwords passwords)
    {
        var (request, refusal) = await ReadAsync(context, ProtocolJson.Default.UpdateUserRequest);
        if (request is null) return refusal!;
        var errors = new Dictionary<string, string[]>();
        Tier? tier = null;
        if (request.Tier is not null)
        {
            if (TierRule.TryParse(request.Tier, out var parsed)) tier = parsed;
            else errors["tier"] = ["STARTER, PROFESSIONAL or INSTITUTIONAL"];
        }
        if (request.Password is not null and not { Length: >= 8 and <= 256 }) errors["password"] = ["8 to 256 characters"];
        if (tier is null && request.Password is null && request.Disabled is null) errors["$"] = ["give at least one of tier, password, disabled"];
        if (errors.Count > 0) return Results.ValidationProblem(errors, title: "The change is invalid");

        return await Guard(async () =>
        {
            var hash = request.Password is null ? null : passwords.Hash(request.Password);
            var user = await store.UpdateAsync(userId, tier, hash, request.Disabled, context.RequestAborted);
            return user is null ? Problems.Result(StatusCodes.Status404NotFound, "No such user") : Results.Json(ToResponse(user), ProtocolJson.Default.UserResponse);
        });
    }

    private static UserResponse ToResponse(UserRecord user) => new(user.Id, user.Username, user.Tier, user.Disabled);

    private static async Task<IResult> Guard(Func<Task<IResult>> action)
    {
        try { return await action(); }
        catch (Exception e) when (Problems.IsOutage(e)) { return Problems.StorageUnavailable(); }
    }

    private static async Task<(T? Value, IResult? Refusal)> ReadAsync<T>(HttpContext context, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) where T : class
    {
        var (document, refusal) = await JsonBody.ReadAsync(context.Request, MaxBodyBytes, BodyTimeout);
        if (refusal is not null) return (null, refusal);
        using (document)
        {
            try
            {
                return document!.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.Deserialize(type) is { } value
                    ? (value, null)
                    : (null, Problems.Result(StatusCodes.Status400BadRequest, "The body must be a JSON object"));
            }
            catch (JsonException e)
            {
                return (null, Results.ValidationProblem(new Dictionary<string, string[]> { [e.Path ?? "$"] = ["wrong type"] }, title: "A field has the wrong type"));
            }
        }
    }
}
