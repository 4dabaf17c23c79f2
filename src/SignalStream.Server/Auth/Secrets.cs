using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Auth;

/// <summary>
/// The signing key and API keys in force. Configured values win; what is not configured is
/// generated once, kept in <c>{Data:Directory}/keys.json</c> (mode 600) and printed once, at generation.
/// </summary>
public sealed class Secrets
{
    public required byte[] SigningKey { get; init; }
    public required string AdminApiKey { get; init; }
    public required string PublisherApiKey { get; init; }

    public static Secrets Load(AuthOptions auth, DataOptions data, TextWriter console)
    {
        var path = Path.Combine(data.Directory, "keys.json");
        var stored = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? [] : [];
        var generated = new List<string>();

        string Resolve(string? configured, string name, int bytes)
        {
            if (!string.IsNullOrEmpty(configured)) return configured;
            if (stored[name]?.GetValue<string>() is { Length: > 0 } kept) return kept;
            var fresh = Base64Url(RandomNumberGenerator.GetBytes(bytes));
            stored[name] = fresh;
            generated.Add(name);
            return fresh;
        }

        var signing = Resolve(auth.SigningKey, "signing_key", 48);
        var secrets = new Secrets
        {
            SigningKey = Encoding.UTF8.GetBytes(signing),
            AdminApiKey = Resolve(auth.AdminApiKey, "admin_api_key", 24),
            PublisherApiKey = Resolve(auth.PublisherApiKey, "publisher_api_key", 24),
        };
        if (secrets.SigningKey.Length < 32)
            throw new OptionsValidationException("Auth:SigningKey", typeof(AuthOptions), ["Auth:SigningKey must be at least 32 bytes"]);

        if (generated.Count > 0)
        {
            Directory.CreateDirectory(data.Directory);
            File.WriteAllText(path, stored.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            // Printed to the console, never to the log: this is the operator's one chance to copy them.
            if (generated.Contains("admin_api_key")) console.WriteLine($"Admin API key (X-API-Key for /api/admin, /ws/stats): {secrets.AdminApiKey}");
            if (generated.Contains("publisher_api_key")) console.WriteLine($"Publisher API key (X-API-Key for ingest): {secrets.PublisherApiKey}");
            console.WriteLine($"Kept in {Path.GetFullPath(path)}; configure Auth:AdminApiKey / Auth:PublisherApiKey to choose your own.");
        }
        return secrets;
    }

    internal static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Compares a presented key with an expected one in constant time, whatever their lengths.</summary>
    public static bool KeyMatches(string? presented, string expected)
    {
        if (string.IsNullOrEmpty(presented)) return false;
        Span<byte> a = stackalloc byte[32];
        Span<byte> b = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), a);
        SHA256.HashData(Encoding.UTF8.GetBytes(expected), b);
        return CryptographicOperations.FixedTimeEquals(a, b);
    }
}
