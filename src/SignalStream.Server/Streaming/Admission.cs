using SignalStream.Server.Fanout;

namespace SignalStream.Server.Streaming;

/// <summary>A stream that holds its connection slot, ready to be accepted.</summary>
public readonly record struct AdmittedStream(StreamConnection Connection, Storage.UserRecord User, long LastSeq, long AfterSeq, string? Epoch);

/// <summary>Either admitted or refused.</summary>
public readonly record struct Admission(AdmittedStream? Admitted, StreamRefusal? Refusal);
