using System.Text.Json.Serialization;
using VideoEdge.Bench.Harness;
using VideoEdge.Bench.Load;

namespace VideoEdge.Bench;

[JsonSourceGenerationOptions(WriteIndented = false, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(LoadSpec))]
[JsonSerializable(typeof(LoadResult))]
[JsonSerializable(typeof(BenchReport))]
[JsonSerializable(typeof(VideoEdgeState))]
internal sealed partial class BenchJson : JsonSerializerContext;
