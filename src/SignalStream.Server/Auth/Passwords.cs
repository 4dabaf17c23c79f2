using Microsoft.AspNetCore.Identity;

namespace SignalStream.Server.Auth;

/// <summary>PBKDF2 password hashes, by the platform's hasher (Identity V3 format).</summary>
public sealed class Passwords
{
    private static readonly object User = new();
    private readonly PasswordHasher<object> _hasher = new();
    // Verified against when the username is unknown, so both answers take the same time.
    private readonly Lazy<string> _decoy;

    public Passwords() => _decoy = new(() => _hasher.HashPassword(User, Guid.NewGuid().ToString()));

    public string Hash(string password) => _hasher.HashPassword(User, password);

    public bool Verify(string? hash, string password) =>
        _hasher.VerifyHashedPassword(User, hash ?? _decoy.Value, password) != PasswordVerificationResult.Failed && hash is not null;
}
