// The usual alternative: the same job done the way most .NET teams would do it.
// ASP.NET Core SignalR with JWT bearer auth, one group per tier, a SQLite insert before each
// broadcast, the JSON hub protocol with snake_case payloads (the same signal shape as SignalStream).
// It answers the same admin, token and ingest calls as SignalStream so that one load generator
// drives both; it takes the same command-line settings (--urls, --Data:Directory, --Auth:*).

using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Data.Sqlite;
using Microsoft.IdentityModel.Tokens;
using SignalStream.Protocol;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
var config = builder.Configuration;
var signingKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(config["Auth:SigningKey"] ?? "bench-signing-key-bench-signing-key-0123456789"));
var adminKey = config["Auth:AdminApiKey"] ?? "admin";
var publisherKey = config["Auth:PublisherApiKey"] ?? "publisher";
var lifetime = TimeSpan.TryParse(config["Auth:TokenLifetime"], System.Globalization.CultureInfo.InvariantCulture, out var l) ? l : TimeSpan.FromHours(1);
var dataDirectory = config["Data:Directory"] ?? "data";
Directory.CreateDirectory(dataDirectory);
var db = new Db($"Data Source={Path.Combine(dataDirectory, "signals.db")}");
db.Migrate();

builder.Services.AddSingleton(db);
builder.Services.AddAuthorization();
builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(o =>
{
    o.MapInboundClaims = false;
    o.TokenValidationParameters = new TokenValidationParameters
    {
        ValidIssuer = "signalr-baseline",
        ValidAudience = "signalr-baseline",
        IssuerSigningKey = signingKey,
        ClockSkew = TimeSpan.FromSeconds(30),
    };
    // Browsers cannot set headers on WebSockets: SignalR's documented access_token query parameter.
    o.Events = new JwtBearerEvents
    {
        OnMessageReceived = context =>
        {
            var token = context.Request.Query["access_token"];
            if (!string.IsNullOrEmpty(token) && context.HttpContext.Request.Path.StartsWithSegments("/hubs")) context.Token = token;
            return Task.CompletedTask;
        },
    };
});
builder.Services.AddSignalR().AddJsonProtocol(o =>
{
    o.PayloadSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
    o.PayloadSerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
    o.PayloadSerializerOptions.Converters.Add(new TierJsonConverter());
    o.PayloadSerializerOptions.Converters.Add(new UtcTimestampConverter());
});

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();
app.MapHub<SignalsHub>("/hubs/signals");
app.MapGet("/healthz", () => Results.Text("ok"));

var wire = new JsonSerializerOptions(JsonSerializerDefaults.Web)
{
    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    Converters = { new TierJsonConverter(), new UtcTimestampConverter() },
};

app.MapPost("/api/admin/users", (HttpContext context, CreateUserRequest request) =>
{
    if (context.Request.Headers["X-API-Key"] != adminKey) return Results.Unauthorized();
    if (string.IsNullOrEmpty(request.Username) || string.IsNullOrEmpty(request.Password) || !TierRule.TryParse(request.Tier, out var tier))
        return Results.BadRequest();
    var id = Guid.NewGuid().ToString("N");
    if (!db.AddUser(id, request.Username, Hash(request.Password), tier)) return Results.Conflict();
    return Results.Json(new UserResponse(id, request.Username, tier, false), wire, statusCode: 201);
});

app.MapPost("/api/auth/token", (TokenRequest request) =>
{
    var user = request.Username is null ? null : db.FindUser(request.Username);
    if (user is null || request.Password is null || !Verify(request.Password, user.Value.Hash)) return Results.Unauthorized();
    var token = new JwtSecurityTokenHandler().WriteToken(new JwtSecurityToken(
        "signalr-baseline", "signalr-baseline",
        [new Claim("sub", user.Value.Id), new Claim("tier", user.Value.Tier.ToWire())],
        expires: DateTime.UtcNow + lifetime,
        signingCredentials: new SigningCredentials(signingKey, SecurityAlgorithms.HmacSha256)));
    return Results.Json(new TokenResponse(token, "Bearer", (int)lifetime.TotalSeconds, user.Value.Id, user.Value.Tier), wire);
});

var order = new SemaphoreSlim(1, 1);
app.MapPost("/api/v1/external-signals/sync/signal", async (HttpContext context, IHubContext<SignalsHub> hub) =>
{
    if (context.Request.Headers["X-API-Key"] != publisherKey) return Results.Unauthorized();
    Signal? posted;
    try { posted = await JsonSerializer.DeserializeAsync<Signal>(context.Request.Body, wire); }
    catch (JsonException) { return Results.BadRequest(); }
    if (posted is null || posted.ExternalId.Length == 0 || posted.Source.Length == 0 || posted.Symbol.Length == 0) return Results.BadRequest();
    var minTier = TierRule.EffectiveMinTier(posted.Premium, posted.MinTier);
    await order.WaitAsync();
    try
    {
        // Insert, then broadcast in seq order: the same guarantee SignalStream gives.
        var id = Guid.NewGuid().ToString("N");
        var stored = posted with { Id = id, MinTier = minTier, Premium = TierRule.IsPremium(minTier), ReceivedAt = DateTimeOffset.UtcNow };
        var (seq, duplicate) = db.AddSignal(stored, s => JsonSerializer.Serialize(s, wire));
        if (duplicate) return Results.Json(new IngestResponse(id, seq, true), wire);
        stored = stored with { Seq = seq };
        await hub.Clients.Groups(SignalsHub.GroupsFor(minTier)).SendAsync("signal", new SignalMessage(seq, stored));
        return Results.Json(new IngestResponse(id, seq, false), wire, statusCode: 201);
    }
    finally
    {
        order.Release();
    }
});

app.Run();

static string Hash(string password)
{
    var salt = RandomNumberGenerator.GetBytes(16);
    var hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, 10_000, HashAlgorithmName.SHA256, 32);
    return Convert.ToBase64String(salt) + ":" + Convert.ToBase64String(hash);
}

static bool Verify(string password, string stored)
{
    var parts = stored.Split(':');
    var hash = Rfc2898DeriveBytes.Pbkdf2(password, Convert.FromBase64String(parts[0]), 10_000, HashAlgorithmName.SHA256, 32);
    return CryptographicOperations.FixedTimeEquals(hash, Convert.FromBase64String(parts[1]));
}

[Authorize]
internal sealed class SignalsHub : Hub
{
    private static readonly string[][] TierGroups = [["STARTER", "PROFESSIONAL", "INSTITUTIONAL"], ["PROFESSIONAL", "INSTITUTIONAL"], ["INSTITUTIONAL"]];

    public static IReadOnlyList<string> GroupsFor(Tier minTier) => TierGroups[(int)minTier];

    public override async Task OnConnectedAsync()
    {
        var tier = Context.User?.FindFirst("tier")?.Value ?? "STARTER";
        await Groups.AddToGroupAsync(Context.ConnectionId, tier);
        await Clients.Caller.SendAsync("welcome", new { type = "welcome", tier });
    }
}

internal sealed class Db
{
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    public Db(string connectionString)
    {
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
    }

    public void Migrate()
    {
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
        Execute("""
            CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, hash TEXT NOT NULL, tier INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS signals (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, source TEXT NOT NULL,
                external_id TEXT NOT NULL, min_tier INTEGER NOT NULL, payload TEXT NOT NULL, UNIQUE (source, external_id));
            """);
    }

    public bool AddUser(string id, string username, string hash, Tier tier)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "INSERT OR IGNORE INTO users (id, username, hash, tier) VALUES ($id, $u, $h, $t)";
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$u", username);
            command.Parameters.AddWithValue("$h", hash);
            command.Parameters.AddWithValue("$t", (int)tier);
            return command.ExecuteNonQuery() == 1;
        }
    }

    public (string Id, string Hash, Tier Tier)? FindUser(string username)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id, hash, tier FROM users WHERE username = $u";
            command.Parameters.AddWithValue("$u", username);
            using var reader = command.ExecuteReader();
            return reader.Read() ? (reader.GetString(0), reader.GetString(1), (Tier)reader.GetInt32(2)) : null;
        }
    }

    public (long Seq, bool Duplicate) AddSignal(Signal signal, Func<Signal, string> serialize)
    {
        lock (_gate)
        {
            using var tx = _connection.BeginTransaction();
            using (var find = _connection.CreateCommand())
            {
                find.Transaction = tx;
                find.CommandText = "SELECT seq FROM signals WHERE source = $s AND external_id = $e";
                find.Parameters.AddWithValue("$s", signal.Source);
                find.Parameters.AddWithValue("$e", signal.ExternalId);
                if (find.ExecuteScalar() is long existing) { tx.Commit(); return (existing, true); }
            }
            using var insert = _connection.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = "INSERT INTO signals (id, source, external_id, min_tier, payload) VALUES ($id, $s, $e, $t, '') RETURNING seq";
            insert.Parameters.AddWithValue("$id", signal.Id);
            insert.Parameters.AddWithValue("$s", signal.Source);
            insert.Parameters.AddWithValue("$e", signal.ExternalId);
            insert.Parameters.AddWithValue("$t", (int)signal.MinTier);
            var seq = (long)insert.ExecuteScalar()!;
            using var update = _connection.CreateCommand();
            update.Transaction = tx;
            update.CommandText = "UPDATE signals SET payload = $p WHERE seq = $seq";
            update.Parameters.AddWithValue("$p", serialize(signal with { Seq = seq }));
            update.Parameters.AddWithValue("$seq", seq);
            update.ExecuteNonQuery();
            tx.Commit();
            return (seq, false);
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
