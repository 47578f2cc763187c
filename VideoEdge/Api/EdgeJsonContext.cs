using System.Text.Json;
using System.Text.Json.Serialization;

namespace VideoEdge.Api;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ApiProblem))]
[JsonSerializable(typeof(StateDto))]
[JsonSerializable(typeof(CameraSummaryDto[]))]
[JsonSerializable(typeof(ControlsDto))]
[JsonSerializable(typeof(ControlValueDto))]
internal sealed partial class EdgeJsonContext : JsonSerializerContext;
