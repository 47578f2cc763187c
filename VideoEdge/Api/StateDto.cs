namespace VideoEdge.Api;

public sealed record StateDto(string Camera, SourceDto Source, EncoderDto Encoder, FramesDto Frames, PoolDto Pool, int Viewers, ClientDto[] Clients, ProcessDto Process, LimitsDto Limits, CameraSettingsDto Settings, VariantDto[] Variants);

public sealed record SourceDto(string Kind, string Description, int Width, int Height, double ConfiguredFps, double MeasuredFps, bool Online, string? OfflineReason, string State);

public sealed record EncoderDto(int Quality, bool Slowdown, bool Active);

public sealed record FramesDto(long Captured, long Published, long Encoded, long Passthrough, long Decoded, long Dropped, long NoSignal, long LatestSequence, double EncodeMillisecondsAverage);

public sealed record PoolDto(long Rented, long Returned, long Outstanding, long Misuse);

public sealed record ClientDto(long Id, string Transport, string Remote, DateTimeOffset ConnectedSince, double Fps, long FramesSent, long FramesSkipped, long BytesSent, string? Variant = null);

public sealed record ProcessDto(double UptimeSeconds, long WorkingSetBytes, long ManagedHeapBytes, long AllocatedBytes, int Gen0Collections, int Gen1Collections, int Gen2Collections, int ThreadCount);

/// <summary>A ?width=/?quality= variant in use: its size (0×0 before its first frame), viewers and encodes.</summary>
public sealed record VariantDto(string Name, int RequestedWidth, int Quality, int Width, int Height, int Viewers, long Encodes, long Refused, double EncodeMillisecondsAverage);
