using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SignalStream.Protocol;

/// <summary>Tiers travel as their upper-case wire names.</summary>
public sealed class TierJsonConverter : JsonConverter<Tier>
{
    /// <inheritdoc/>
    public override Tier Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && TierRule.TryParse(reader.GetString(), out var tier)
            ? tier
            : throw new JsonException("tier must be STARTER, PROFESSIONAL or INSTITUTIONAL");

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, Tier value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToWire());
}

/// <summary>Times travel as RFC 3339 UTC strings with millisecond precision.</summary>
public sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    /// <summary>Formats a time the way the protocol writes it.</summary>
    public static string ToWire(DateTimeOffset value) => value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String
        && DateTimeOffset.TryParse(reader.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            ? value
            : throw new JsonException("time must be an RFC 3339 string");

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(ToWire(value));
}

/// <summary>Source-generated serialization for every wire type: snake_case, nulls omitted.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(TierJsonConverter), typeof(UtcTimestampConverter)])]
[JsonSerializable(typeof(Signal))]
[JsonSerializable(typeof(SignalPage))]
[JsonSerializable(typeof(WelcomeMessage))]
[JsonSerializable(typeof(ReplayCompleteMessage))]
[JsonSerializable(typeof(ResyncRequiredMessage))]
[JsonSerializable(typeof(TierChangedMessage))]
[JsonSerializable(typeof(PongMessage))]
[JsonSerializable(typeof(TokenExpiringMessage))]
[JsonSerializable(typeof(ErrorMessage))]
[JsonSerializable(typeof(SignalMessage))]
[JsonSerializable(typeof(ServerMessage))]
[JsonSerializable(typeof(ClientMessage))]
[JsonSerializable(typeof(TokenRequest))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(TicketResponse))]
[JsonSerializable(typeof(IngestResponse))]
[JsonSerializable(typeof(BatchIngestResponse))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(UpdateUserRequest))]
[JsonSerializable(typeof(UserResponse))]
[JsonSerializable(typeof(UserResponse[]))]
[JsonSerializable(typeof(StatsResponse))]
public sealed partial class ProtocolJson : JsonSerializerContext;
